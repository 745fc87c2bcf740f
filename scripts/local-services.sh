#!/usr/bin/env bash
# local-services.sh — run PostgreSQL and RabbitMQ for the FlightDelay tests as
# plain local processes (no systemd, no init system, no Docker), bound to
# 127.0.0.1 only, with all state under one directory.
#
# Usage: scripts/local-services.sh COMMAND
#   install          apt-get install postgresql / rabbitmq-server if their binaries are missing
#   start            install if needed, start both, wait until each really answers
#   stop             stop both (graceful, then forced after a bounded wait)
#   start-postgres | stop-postgres | start-rabbitmq | stop-rabbitmq
#   restart-postgres | restart-rabbitmq
#   ctl ARGS...      run rabbitmqctl against the local node (e.g. `ctl list_queues`)
#
#   A three-node RabbitMQ cluster (the quorum queue tests): nodes 1..3 on loopback, node 1 being the single node
#   above (rabbit@localhost, same ports and folder), node N rabbitN@localhost with its ports 20*(N-1) above node 1's
#   and its state in rabbitmq-N; one private epmd and one Erlang cookie for all three.
#   start-cluster          install if needed, start PostgreSQL and the three nodes, join nodes 2 and 3 to node 1
#   start-rabbitmq-cluster the three nodes only (a node killed earlier comes back and rejoins)
#   stop-rabbitmq-cluster  stop every node (`stop` does too, and PostgreSQL)
#   start-rabbitmq-node N | stop-rabbitmq-node N
#   kill-rabbitmq-node N   SIGKILL node N (no shutdown: as a crashed machine would)
#   queue-leader QUEUE     print the number (1..3) of the node that leads quorum queue QUEUE
#   ctl-node N ARGS...     run rabbitmqctl against node N
#   env              print `export FLIGHTDELAY_TEST_*=...` lines, for: eval "$(scripts/local-services.sh env)"
#   status           print the state of each service; exit 0 only if both answer
#
# Environment:
#   FLIGHTDELAY_SERVICES_DIR        state dir (data, logs, pid files)   default /tmp/flightdelay-services
#   FLIGHTDELAY_PG_PORT             PostgreSQL TCP port                 default 55432
#   FLIGHTDELAY_AMQP_PORT           RabbitMQ AMQP port                  default 55672
#   FLIGHTDELAY_RABBIT_DIST_PORT    Erlang distribution port of the node default 55673
#   FLIGHTDELAY_RABBIT_CTL_PORT     first of 10 ports for rabbitmqctl's own distribution listener, default 55674
#   FLIGHTDELAY_EPMD_PORT           port of the nodes' private epmd     default 55669
#   (Cluster node N uses the three ports above plus 20*(N-1): 55692, 55693, 55694.. for node 2 by default.)
#   FLIGHTDELAY_SERVICES_TIMEOUT    seconds to wait for readiness       default 60
#
# Logs go to stderr, prefixed with "local-services:". Only `env` and `status`
# write to stdout.

set -euo pipefail

STATE_DIR=${FLIGHTDELAY_SERVICES_DIR:-/tmp/flightdelay-services}
case $STATE_DIR in
  /*) ;;
  *) STATE_DIR=$PWD/$STATE_DIR ;;
esac
STATE_DIR=${STATE_DIR%/}

PG_PORT=${FLIGHTDELAY_PG_PORT:-55432}
AMQP_PORT=${FLIGHTDELAY_AMQP_PORT:-55672}
RABBIT_DIST_PORT=${FLIGHTDELAY_RABBIT_DIST_PORT:-55673}
RABBIT_CTL_PORT=${FLIGHTDELAY_RABBIT_CTL_PORT:-55674}
EPMD_PORT=${FLIGHTDELAY_EPMD_PORT:-55669}
WAIT_SECS=${FLIGHTDELAY_SERVICES_TIMEOUT:-60}
STOP_SECS=30

for _v in PG_PORT AMQP_PORT RABBIT_DIST_PORT RABBIT_CTL_PORT EPMD_PORT WAIT_SECS; do
  if [[ ! ${!_v} =~ ^[0-9]+$ ]]; then
    printf 'local-services: ERROR: %s must be a number, got %q\n' "$_v" "${!_v}" >&2
    exit 2
  fi
done
unset _v

DB_USER=flightdelay
DB_PASSWORD=flightdelay
DB_NAME=flightdelay

PG_DIR=$STATE_DIR/postgres
PG_DATA=$PG_DIR/data
PG_RUN=$PG_DIR/run
PG_LOG=$PG_DIR/postgres.log
PG_CTL_LOG=$PG_DIR/pg_ctl.log

RMQ_LAUNCHER=()
RMQ_T0=()
# One HOME for every node: they share its Erlang cookie, which a cluster needs.
RMQ_HOME=$STATE_DIR/rabbitmq/home
RMQ_BIN=/usr/lib/rabbitmq/bin
RMQ_NODES=3
RMQ_PORT_STEP=20
# Node 1's ports; rmq_node moves AMQP_PORT, RABBIT_DIST_PORT and RABBIT_CTL_PORT to the selected node's.
AMQP_PORT_1=$AMQP_PORT
RABBIT_DIST_PORT_1=$RABBIT_DIST_PORT
RABBIT_CTL_PORT_1=$RABBIT_CTL_PORT

log() { printf 'local-services: %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

now() { date +%s; }

# True if the process exists and is not a zombie.
alive() {
  local st
  [[ -n ${1:-} ]] || return 1
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n $st && $st != Z* ]]
}

# Print the last lines of each given log file to stderr.
show_logs() {
  local f
  for f in "$@"; do
    [[ -f $f ]] || continue
    log "----- last 40 lines of $f -----"
    tail -n 40 "$f" >&2 || true
  done
  log "-----"
}

# Run a command as the postgres system user when we are root (initdb and the
# server refuse to run as root); as ourselves otherwise.
as_pg() {
  if ((EUID == 0)); then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_os_user() {
  if ((EUID == 0)); then echo postgres; else id -un; fi
}

# Directory with pg_ctl & co: the version that created the data dir if there
# is one, else the highest installed version. Prints nothing if none.
pg_bindir() {
  local d v best="" bestv=0
  if [[ -s $PG_DATA/PG_VERSION ]]; then
    v=$(<"$PG_DATA/PG_VERSION")
    if [[ -x /usr/lib/postgresql/$v/bin/pg_ctl ]]; then
      echo "/usr/lib/postgresql/$v/bin"
      return 0
    fi
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x $d/pg_ctl && -x $d/initdb ]] || continue
    v=${d#/usr/lib/postgresql/}
    v=${v%/bin}
    [[ $v =~ ^[0-9]+$ ]] || continue
    if ((v > bestv)); then
      bestv=$v
      best=$d
    fi
  done
  [[ -n $best ]] && echo "$best"
  return 0
}

ensure_state_dir() {
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR" 2>/dev/null || true
}

# Serialise start/stop between concurrent invocations. The lock fd (9) must
# not leak into the daemons, so every launch below closes it (9>&-).
take_lock() {
  ensure_state_dir
  exec 9>>"$STATE_DIR/.lock"
  if ! flock -w $((WAIT_SECS * 3)) 9; then
    die "could not take the lock $STATE_DIR/.lock (another local-services.sh still running?)"
  fi
}

# ---------------------------------------------------------------------------
# install

cmd_install() {
  local need=() created_policy=0 rc=0
  [[ -n $(pg_bindir) ]] || need+=(postgresql)
  [[ -x $RMQ_BIN/rabbitmq-server && -x $RMQ_BIN/rabbitmqctl ]] || need+=(rabbitmq-server)
  if ((${#need[@]} == 0)); then
    log "postgresql and rabbitmq-server are already installed"
    return 0
  fi
  ((EUID == 0)) || die "need root to install: ${need[*]}"
  command -v apt-get >/dev/null || die "apt-get not found; install ${need[*]} by hand"
  log "installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' maintainer scripts from starting system-wide services
  # (they would listen on 5432/5672 and cost memory and CPU).
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  {
    apt-get -o DPkg::Lock::Timeout=300 -q update &&
      apt-get -o DPkg::Lock::Timeout=300 -q install -y --no-install-recommends "${need[@]}"
  } </dev/null >&2 || rc=$?
  ((created_policy == 0)) || rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get failed (exit $rc) installing ${need[*]}"
  [[ -n $(pg_bindir) ]] || die "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl found"
  [[ -x $RMQ_BIN/rabbitmq-server ]] || die "rabbitmq-server installed but $RMQ_BIN/rabbitmq-server is missing"
  log "install done"
}

# ---------------------------------------------------------------------------
# PostgreSQL

# PID of our postmaster if it is running, else nothing (and status 1).
pg_pid() {
  local pid comm
  [[ -f $PG_DATA/postmaster.pid ]] || return 1
  pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == postgres || $comm == postmaster ]] || return 1
  echo "$pid"
}

# True if PostgreSQL answers a real query over TCP with the test credentials.
pg_answers() {
  local bin out
  bin=$(pg_bindir)
  [[ -n $bin ]] || return 1
  out=$(PGPASSWORD=$DB_PASSWORD PGCONNECT_TIMEOUT=3 "$bin/psql" -X -q -At -w \
    -h 127.0.0.1 -p "$PG_PORT" -U "$DB_USER" -d "$DB_NAME" -c 'select 1' 2>/dev/null </dev/null) || return 1
  [[ $out == 1 ]]
}

# True if anything accepts connections on the PostgreSQL TCP port.
pg_port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null
}

pg_write_conf() {
  cat >"$PG_DATA/flightdelay.conf" <<EOF
# Written by scripts/local-services.sh on every start; edits are overwritten.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_RUN'
max_connections = 200
logging_collector = off
EOF
  chown "$(pg_os_user):" "$PG_DATA/flightdelay.conf"
  chmod 600 "$PG_DATA/flightdelay.conf"
}

pg_init() {
  local bin=$1 tmp=$PG_DIR/data.initdb owner
  owner=$(pg_os_user)
  mkdir -p "$PG_DIR" "$PG_RUN"
  chown "$owner:" "$PG_DIR" "$PG_RUN"
  chmod 700 "$PG_DIR"
  chmod 755 "$PG_RUN"
  touch "$PG_LOG" "$PG_CTL_LOG"
  chown "$owner:" "$PG_LOG"
  if ! as_pg test -w "$PG_DIR"; then
    die "user $owner cannot write $PG_DIR (a parent directory of $STATE_DIR is not traversable by $owner?); set FLIGHTDELAY_SERVICES_DIR elsewhere"
  fi
  [[ -s $PG_DATA/PG_VERSION ]] && return 0
  log "postgres: initdb in $PG_DATA"
  rm -rf "$PG_DATA" "$tmp"
  if ! as_pg "$bin/initdb" -D "$tmp" -U "$owner" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >>"$PG_LOG" 2>&1 </dev/null 9>&-; then
    show_logs "$PG_LOG"
    die "postgres: initdb failed"
  fi
  printf "\ninclude_if_exists = 'flightdelay.conf'\n" >>"$tmp/postgresql.conf"
  mv "$tmp" "$PG_DATA"
}

# Create (or reset) the test role and database. Uses the unix socket as the
# superuser (peer auth), so it works before the role exists.
pg_bootstrap() {
  local bin=$1
  as_pg "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_RUN" -p "$PG_PORT" -d postgres >/dev/null 2>>"$PG_LOG" 9>&- <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flightdelay') THEN
    CREATE ROLE flightdelay LOGIN SUPERUSER PASSWORD 'flightdelay';
  ELSE
    ALTER ROLE flightdelay LOGIN SUPERUSER PASSWORD 'flightdelay';
  END IF;
END
$$;
SELECT 'CREATE DATABASE flightdelay OWNER flightdelay'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'flightdelay')\gexec
SQL
}

pg_start() {
  local bin pid deadline t0
  t0=$(now)
  bin=$(pg_bindir)
  [[ -n $bin ]] || die "postgres: no PostgreSQL server installed (run: $0 install)"
  if pid=$(pg_pid); then
    if pg_answers; then
      log "postgres: already running (pid $pid) and answering on 127.0.0.1:$PG_PORT"
      return 0
    fi
    log "postgres: running (pid $pid) but not answering yet; waiting"
  else
    if pg_port_in_use; then
      die "postgres: port 127.0.0.1:$PG_PORT is taken by another process (not our server in $PG_DATA); set FLIGHTDELAY_PG_PORT"
    fi
    pg_init "$bin"
    # Stale lock files from a crash: postgres itself refuses to start if the
    # pid in them now belongs to another live process.
    rm -f "$PG_DATA/postmaster.pid" "$PG_RUN"/.s.PGSQL."$PG_PORT" "$PG_RUN"/.s.PGSQL."$PG_PORT".lock
    pg_write_conf
    log "postgres: starting ($bin) on 127.0.0.1:$PG_PORT"
    if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$WAIT_SECS" start >>"$PG_CTL_LOG" 2>&1 </dev/null 9>&-; then
      show_logs "$PG_CTL_LOG" "$PG_LOG"
      die "postgres: server did not start within ${WAIT_SECS}s"
    fi
  fi
  deadline=$(($(now) + WAIT_SECS))
  until as_pg "$bin/pg_isready" -q -h "$PG_RUN" -p "$PG_PORT" -t 2 9>&-; do
    if ! pg_pid >/dev/null; then
      show_logs "$PG_LOG"
      die "postgres: server exited during startup"
    fi
    if (($(now) >= deadline)); then
      show_logs "$PG_LOG"
      die "postgres: not accepting connections after ${WAIT_SECS}s"
    fi
    sleep 0.2
  done
  if ! pg_bootstrap "$bin"; then
    show_logs "$PG_LOG"
    die "postgres: could not create role/database $DB_USER/$DB_NAME"
  fi
  until pg_answers; do
    if (($(now) >= deadline)); then
      show_logs "$PG_LOG"
      die "postgres: does not answer 'select 1' as $DB_USER on 127.0.0.1:$PG_PORT after ${WAIT_SECS}s"
    fi
    sleep 0.2
  done
  log "postgres: ready on 127.0.0.1:$PG_PORT (pid $(pg_pid || echo '?'), $(($(now) - t0))s)"
}

pg_stop() {
  local bin pid deadline
  bin=$(pg_bindir)
  if ! pid=$(pg_pid); then
    rm -f "$PG_DATA/postmaster.pid" "$PG_RUN"/.s.PGSQL."$PG_PORT".lock 2>/dev/null || true
    log "postgres: not running"
    return 0
  fi
  log "postgres: stopping (pid $pid)"
  if [[ -n $bin ]] && as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$STOP_SECS" stop >>"$PG_CTL_LOG" 2>&1 </dev/null 9>&-; then
    log "postgres: stopped"
    return 0
  fi
  log "postgres: fast shutdown did not finish in ${STOP_SECS}s; trying immediate"
  if [[ -n $bin ]] && as_pg "$bin/pg_ctl" -D "$PG_DATA" -m immediate -w -t 10 stop >>"$PG_CTL_LOG" 2>&1 </dev/null 9>&-; then
    log "postgres: stopped (immediate)"
    return 0
  fi
  log "postgres: killing process group $pid"
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  deadline=$(($(now) + 10))
  while alive "$pid"; do
    (($(now) < deadline)) || die "postgres: pid $pid survives SIGKILL"
    sleep 0.2
  done
  rm -f "$PG_DATA/postmaster.pid" "$PG_RUN"/.s.PGSQL."$PG_PORT".lock
  log "postgres: killed"
}

pg_status() {
  local pid
  if pid=$(pg_pid); then
    if pg_answers; then
      echo "postgres: running (pid $pid), answering on 127.0.0.1:$PG_PORT"
      return 0
    fi
    echo "postgres: running (pid $pid), NOT answering on 127.0.0.1:$PG_PORT"
    return 1
  fi
  echo "postgres: stopped"
  return 1
}

# ---------------------------------------------------------------------------
# RabbitMQ
#
# Started straight from /usr/lib/rabbitmq/bin (not the /usr/sbin wrapper,
# which cds to /var/lib/rabbitmq and su's to the rabbitmq user, dropping
# HOME and the cookie). beam therefore runs as the invoking user (root in CI)
# and everything under $RMQ_DIR belongs to that user.
#
# Every rmq_* function works on the node rmq_node selected last (node 1, the
# single node, unless a cluster command chose another).

# Selects node N (1..RMQ_NODES): sets its name, ports and folders. Node 1 is
# the single node of `start`, unchanged; node N is rabbitN@localhost, its
# ports RMQ_PORT_STEP*(N-1) above node 1's, its state in rabbitmq-N.
rmq_node() {
  local n=$1 offset
  if [[ ! $n =~ ^[0-9]+$ ]] || ((n < 1 || n > RMQ_NODES)); then
    die "rabbitmq: no node '$n' (nodes are 1..$RMQ_NODES)"
  fi
  offset=$((RMQ_PORT_STEP * (n - 1)))
  RMQ_INDEX=$n
  AMQP_PORT=$((AMQP_PORT_1 + offset))
  RABBIT_DIST_PORT=$((RABBIT_DIST_PORT_1 + offset))
  RABBIT_CTL_PORT=$((RABBIT_CTL_PORT_1 + offset))
  if ((n == 1)); then
    RABBIT_NODE=rabbit@localhost
    RMQ_DIR=$STATE_DIR/rabbitmq
    RMQ_LABEL=rabbitmq
  else
    RABBIT_NODE=rabbit$n@localhost
    RMQ_DIR=$STATE_DIR/rabbitmq-$n
    RMQ_LABEL=rabbitmq-$n
  fi
  RMQ_MNESIA=$RMQ_DIR/mnesia
  RMQ_LOGDIR=$RMQ_DIR/log
  RMQ_OUT=$RMQ_LOGDIR/startup.log
  RMQ_PIDFILE=$RMQ_DIR/rabbitmq.pid
}
rmq_node 1

rmq_env() {
  local v
  RMQ_ENV=()
  # Drop RABBITMQ_* / ERL_* settings inherited from the caller, so only the
  # ones below apply.
  for v in $(compgen -e); do
    case $v in
      RABBITMQ_* | ERL_*) RMQ_ENV+=(-u "$v") ;;
    esac
  done
  RMQ_ENV+=(
    "HOME=$RMQ_HOME"
    "LANG=C.UTF-8"
    "LC_ALL=C.UTF-8"
    "RABBITMQ_NODENAME=$RABBIT_NODE"
    "RABBITMQ_USE_LONGNAME=false"
    "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1"
    "RABBITMQ_NODE_PORT=$AMQP_PORT"
    "RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT"
    "RABBITMQ_CTL_DIST_PORT_MIN=$RABBIT_CTL_PORT"
    "RABBITMQ_CTL_DIST_PORT_MAX=$((RABBIT_CTL_PORT + 9))"
    "ERL_EPMD_PORT=$EPMD_PORT"
    "ERL_EPMD_ADDRESS=127.0.0.1"
    "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    "RABBITMQ_CTL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}"
    "RABBITMQ_CONF_ENV_FILE=$RMQ_DIR/rabbitmq-env.conf"
    "RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq.conf"
    "RABBITMQ_ADVANCED_CONFIG_FILE=$RMQ_DIR/advanced.config"
    "RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins"
    "RABBITMQ_MNESIA_BASE=$RMQ_MNESIA"
    "RABBITMQ_LOG_BASE=$RMQ_LOGDIR"
    "RABBITMQ_PID_FILE=$RMQ_PIDFILE"
    "ERL_CRASH_DUMP=$RMQ_LOGDIR/erl_crash.dump"
  )
}

# Run a RabbitMQ CLI tool (rabbitmqctl, rabbitmq-diagnostics, ...) against
# our node: `scripts/local-services.sh ctl status` does the same.
rmq_cli() {
  local tool=$1
  shift
  rmq_env
  (cd "$RMQ_DIR" && env "${RMQ_ENV[@]}" "$RMQ_BIN/$tool" -n "$RABBIT_NODE" "$@")
}

# PIDs of processes named $1 whose environment contains $2 (exact entry).
pids_with_env() {
  local name=$1 entry=$2 p
  for p in $(pgrep -x "$name" 2>/dev/null || true); do
    if { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qxF -- "$entry"; then
      echo "$p"
    fi
  done
}

# PID of our beam (identified by its RABBITMQ_MNESIA_BASE), else status 1.
rmq_pid() {
  local pid
  pid=$(pids_with_env beam.smp "RABBITMQ_MNESIA_BASE=$RMQ_MNESIA" | head -n 1)
  [[ -n $pid ]] || return 1
  echo "$pid"
}

rmq_epmd_pids() {
  pids_with_env epmd "ERL_EPMD_PORT=$EPMD_PORT"
}

# True if a real AMQP 0-9-1 server answers on the port: send the protocol
# header and expect the first bytes of a Connection.Start method frame
# (frame type 1, channel 0).
amqp_answers() {
  local out
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  out=$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "AMQP\000\000\011\001" >&3
    head -c 3 <&3
  ' amqp-ping "$AMQP_PORT" 2>/dev/null | od -An -tx1 | tr -d ' \n') || return 1
  [[ $out == 010000 ]]
}

amqp_port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$AMQP_PORT") 2>/dev/null
}

rmq_write_conf() {
  mkdir -p "$RMQ_DIR" "$RMQ_HOME" "$RMQ_MNESIA" "$RMQ_LOGDIR"
  chmod 700 "$RMQ_HOME"
  if [[ ! -s $RMQ_HOME/.erlang.cookie ]]; then
    (
      umask 077
      od -An -N24 -tx1 /dev/urandom | tr -d ' \n' | tr 'a-f' 'A-F' >"$RMQ_HOME/.erlang.cookie"
    )
  fi
  chmod 400 "$RMQ_HOME/.erlang.cookie"
  # Used instead of /etc/rabbitmq/rabbitmq-env.conf, so a system-wide
  # configuration cannot change our node.
  cat >"$RMQ_DIR/rabbitmq-env.conf" <<CONF
# Written by scripts/local-services.sh on every start; edits are overwritten.
NODENAME=$RABBIT_NODE
NODE_IP_ADDRESS=127.0.0.1
NODE_PORT=$AMQP_PORT
DIST_PORT=$RABBIT_DIST_PORT
CONF
  cat >"$RMQ_DIR/rabbitmq.conf" <<CONF
# Written by scripts/local-services.sh on every start; edits are overwritten.
listeners.tcp.default = 127.0.0.1:$AMQP_PORT
loopback_users.guest = true
log.console = false
log.file.level = info
CONF
  echo '[].' >"$RMQ_DIR/advanced.config"
  # No plugins: the management UI would otherwise listen on 15672.
  echo '[].' >"$RMQ_DIR/enabled_plugins"
}

# Starts the node's beam unless it runs already; does not wait for it
# (rmq_wait does). RMQ_LAUNCHER[N] is the launcher's PID, to notice an early exit.
rmq_launch() {
  local pid
  RMQ_T0[RMQ_INDEX]=$(now)
  [[ -x $RMQ_BIN/rabbitmq-server ]] || die "$RMQ_LABEL: rabbitmq-server is not installed (run: $0 install)"
  if pid=$(rmq_pid); then
    if amqp_answers; then
      log "$RMQ_LABEL: already running (pid $pid) and answering on 127.0.0.1:$AMQP_PORT"
    else
      log "$RMQ_LABEL: running (pid $pid) but not answering yet; waiting"
    fi
    return 0
  fi
  if amqp_port_in_use; then
    die "$RMQ_LABEL: port 127.0.0.1:$AMQP_PORT is taken by another process (not our node in $RMQ_MNESIA); set FLIGHTDELAY_AMQP_PORT"
  fi
  rmq_write_conf
  rm -f "$RMQ_PIDFILE"
  rmq_env
  log "$RMQ_LABEL: starting $RABBIT_NODE on 127.0.0.1:$AMQP_PORT (dist $RABBIT_DIST_PORT, epmd $EPMD_PORT)"
  printf '\n===== %s local-services.sh start =====\n' "$(date -Is)" >>"$RMQ_OUT"
  (cd "$RMQ_DIR" && exec setsid env "${RMQ_ENV[@]}" "$RMQ_BIN/rabbitmq-server") \
    >>"$RMQ_OUT" 2>&1 </dev/null 9>&- &
  RMQ_LAUNCHER[RMQ_INDEX]=$!
}

# Waits until the node answers AMQP; dies if it exits or does not answer in time.
rmq_wait() {
  local pid deadline
  deadline=$(($(now) + WAIT_SECS))
  until amqp_answers; do
    if ! rmq_pid >/dev/null && ! alive "${RMQ_LAUNCHER[RMQ_INDEX]:-}"; then
      show_logs "$RMQ_OUT" "$RMQ_LOGDIR/$RABBIT_NODE.log"
      die "$RMQ_LABEL: node exited during startup"
    fi
    if (($(now) >= deadline)); then
      show_logs "$RMQ_OUT" "$RMQ_LOGDIR/$RABBIT_NODE.log"
      die "$RMQ_LABEL: no AMQP answer on 127.0.0.1:$AMQP_PORT after ${WAIT_SECS}s (node left running; '$0 stop' stops it)"
    fi
    sleep 0.25
  done
  pid=$(rmq_pid || true)
  [[ -n $pid ]] && echo "$pid" >"$RMQ_PIDFILE"
  log "$RMQ_LABEL: ready on 127.0.0.1:$AMQP_PORT (pid ${pid:-?}, $(($(now) - ${RMQ_T0[RMQ_INDEX]:-$(now)}))s)"
}

rmq_start() {
  rmq_launch
  rmq_wait
}

# Stops the selected node's beam (graceful, then forced), leaving epmd to rmq_stop_epmd.
rmq_stop_node() {
  local pid deadline
  if pid=$(rmq_pid); then
    log "$RMQ_LABEL: stopping (pid $pid)"
    # SIGTERM makes RabbitMQ shut down gracefully (same as rabbitmqctl stop),
    # without paying for a CLI start-up.
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(($(now) + STOP_SECS))
    while alive "$pid" && (($(now) < deadline)); do
      sleep 0.2
    done
    if alive "$pid"; then
      log "$RMQ_LABEL: still running after ${STOP_SECS}s; sending SIGKILL"
      rmq_kill
    fi
    log "$RMQ_LABEL: stopped"
  else
    log "$RMQ_LABEL: not running"
  fi
  rm -f "$RMQ_PIDFILE"
}

# SIGKILL to the selected node's beam, then waits until it is gone.
rmq_kill() {
  local pid deadline
  pid=$(rmq_pid) || die "$RMQ_LABEL: not running"
  kill -KILL "$pid" 2>/dev/null || true
  deadline=$(($(now) + 10))
  while alive "$pid"; do
    (($(now) < deadline)) || die "$RMQ_LABEL: pid $pid survives SIGKILL"
    sleep 0.1
  done
  rm -f "$RMQ_PIDFILE"
}

# Our nodes share a private epmd (ERL_EPMD_PORT): stopped once no node of
# ours uses it any more.
rmq_stop_epmd() {
  local p deadline
  [[ -z $(pids_with_env beam.smp "ERL_EPMD_PORT=$EPMD_PORT") ]] || return 0
  for p in $(rmq_epmd_pids); do
    kill -TERM "$p" 2>/dev/null || true
  done
  deadline=$(($(now) + 5))
  for p in $(rmq_epmd_pids); do
    while alive "$p" && (($(now) < deadline)); do sleep 0.1; done
    if alive "$p"; then
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
}

rmq_stop() {
  rmq_stop_node
  rmq_stop_epmd
}

# Joins the selected node to node 1's cluster unless it is in it already
# (its state remembers the cluster across restarts).
rmq_join() {
  local first=rabbit@localhost
  if rmq_cli rabbitmqctl -q cluster_status --formatter json 2>/dev/null | grep -qF "\"$first\""; then
    log "$RMQ_LABEL: in the cluster of $first already"
    return 0
  fi
  log "$RMQ_LABEL: joining the cluster of $first"
  # Into the node's startup log: join_cluster reports harmless errors about tables of a node still starting.
  if ! { rmq_cli rabbitmqctl -q stop_app && rmq_cli rabbitmqctl -q join_cluster "$first" && rmq_cli rabbitmqctl -q start_app; } >>"$RMQ_OUT" 2>&1 9>&-; then
    show_logs "$RMQ_OUT" "$RMQ_LOGDIR/$RABBIT_NODE.log"
    die "$RMQ_LABEL: could not join the cluster of $first"
  fi
  RMQ_T0[RMQ_INDEX]=$(now)
  rmq_wait
}

# Every node of the cluster, all launched before any is waited for: a node
# that was not the last of its cluster to stop waits for its peers at boot.
rmq_cluster_start() {
  local n
  for n in $(seq 1 "$RMQ_NODES"); do
    rmq_node "$n"
    rmq_launch
  done
  for n in $(seq 1 "$RMQ_NODES"); do
    rmq_node "$n"
    rmq_wait
  done
  for n in $(seq 2 "$RMQ_NODES"); do
    rmq_node "$n"
    rmq_join
  done
  rmq_node 1
}

# Stops every node that runs, node 1 last, then the shared epmd.
rmq_cluster_stop() {
  local n
  for n in $(seq "$RMQ_NODES" -1 1); do
    rmq_node "$n"
    [[ $n == 1 || -d $RMQ_DIR ]] && rmq_stop_node
  done
  rmq_node 1
  rmq_stop_epmd
}

# Prints the number of the node that leads quorum queue $1, asking the first
# node that answers; fails if none knows the queue or its leader.
rmq_queue_leader() {
  local queue=$1 n out leader
  for n in $(seq 1 "$RMQ_NODES"); do
    rmq_node "$n"
    rmq_pid >/dev/null || continue
    out=$(rmq_cli rabbitmqctl -q list_queues name leader 2>/dev/null 9>&-) || continue
    leader=$(awk -F '\t' -v q="$queue" '$1 == q { print $2 }' <<<"$out")
    case $leader in
      rabbit@localhost) echo 1 ;;
      rabbit[0-9]*@localhost)
        leader=${leader#rabbit}
        echo "${leader%@localhost}"
        ;;
      *) die "rabbitmq: no leader known for queue '$queue' (node $n says: '${leader}')" ;;
    esac
    return 0
  done
  die "rabbitmq: no node answers"
}

rmq_status() {
  local pid
  if pid=$(rmq_pid); then
    if amqp_answers; then
      echo "$RMQ_LABEL: running (pid $pid), answering AMQP on 127.0.0.1:$AMQP_PORT"
      return 0
    fi
    echo "$RMQ_LABEL: running (pid $pid), NOT answering AMQP on 127.0.0.1:$AMQP_PORT"
    return 1
  fi
  echo "$RMQ_LABEL: stopped"
  return 1
}

# ---------------------------------------------------------------------------

cmd_env() {
  printf "export FLIGHTDELAY_TEST_POSTGRES='Host=127.0.0.1;Port=%s;Username=%s;Password=%s;Database=%s'\n" \
    "$PG_PORT" "$DB_USER" "$DB_PASSWORD" "$DB_NAME"
  printf "export FLIGHTDELAY_TEST_RABBITMQ='amqp://guest:guest@127.0.0.1:%s/'\n" "$AMQP_PORT"
}

cmd_status() {
  local rc=0 n
  echo "state dir: $STATE_DIR"
  pg_status || rc=1
  rmq_status || rc=1
  # Cluster nodes, when there ever was a cluster here.
  for n in $(seq 2 "$RMQ_NODES"); do
    rmq_node "$n"
    [[ -d $RMQ_DIR ]] || continue
    rmq_status || rc=1
  done
  return "$rc"
}

# The node number of a cluster command (node 1 without one).
node_arg() {
  [[ -n ${1:-} ]] || die "which node? (1..$RMQ_NODES)"
  rmq_node "$1"
}

usage() {
  sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$0" >&2
}

main() {
  local cmd=${1:-}
  case $cmd in
    install)
      take_lock
      cmd_install
      ;;
    start)
      take_lock
      cmd_install
      pg_start
      rmq_start
      ;;
    stop)
      take_lock
      rmq_cluster_stop
      pg_stop
      ;;
    start-cluster)
      take_lock
      cmd_install
      pg_start
      rmq_cluster_start
      ;;
    start-rabbitmq-cluster)
      take_lock
      cmd_install
      rmq_cluster_start
      ;;
    stop-rabbitmq-cluster)
      take_lock
      rmq_cluster_stop
      ;;
    start-rabbitmq-node)
      take_lock
      node_arg "${2:-}"
      rmq_start
      ;;
    stop-rabbitmq-node)
      take_lock
      node_arg "${2:-}"
      rmq_stop
      ;;
    kill-rabbitmq-node)
      take_lock
      node_arg "${2:-}"
      log "$RMQ_LABEL: SIGKILL (pid $(rmq_pid || echo '?'))"
      rmq_kill
      ;;
    queue-leader)
      [[ -n ${2:-} ]] || die "which queue?"
      rmq_queue_leader "$2"
      ;;
    ctl-node)
      node_arg "${2:-}"
      shift 2
      rmq_cli rabbitmqctl "$@"
      ;;
    start-postgres)
      take_lock
      cmd_install
      pg_start
      ;;
    stop-postgres)
      take_lock
      pg_stop
      ;;
    restart-postgres)
      take_lock
      pg_stop
      pg_start
      ;;
    start-rabbitmq)
      take_lock
      cmd_install
      rmq_start
      ;;
    stop-rabbitmq)
      take_lock
      rmq_stop
      ;;
    restart-rabbitmq)
      take_lock
      rmq_stop
      rmq_start
      ;;
    ctl)
      shift
      rmq_cli rabbitmqctl "$@"
      ;;
    env) cmd_env ;;
    status) cmd_status ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
