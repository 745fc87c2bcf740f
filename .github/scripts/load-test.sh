#!/usr/bin/env bash
# Load test of a running FlightDelay stack (CI brings one up with docker compose; any other works too):
#   1. wrk against POST /predict_api with a valid body (the seed's request: 37 numbers) and against the Open
#      Inference Protocol's POST /v2/models/flight-delay/infer; every answer must be a 200.
#   2. One batch job of JOB_ROWS flights as CSV, from submit to succeeded, and its result download.
# Prints the figures as Markdown, also to $GITHUB_STEP_SUMMARY when set. Exits non-zero if anything failed.
#
# Usage: .github/scripts/load-test.sh [BASE_URL]          (default http://localhost:8080)
# Environment: DURATION (30s per wrk run), CONNECTIONS (32), THREADS (2), JOB_ROWS (200000),
#              READY_TIMEOUT (180 s to wait for /health/ready), JOB_TIMEOUT (600 s for the job).
set -euo pipefail

BASE_URL=${1:-http://localhost:8080}
BASE_URL=${BASE_URL%/}
DURATION=${DURATION:-30s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
JOB_ROWS=${JOB_ROWS:-200000}
READY_TIMEOUT=${READY_TIMEOUT:-180}
JOB_TIMEOUT=${JOB_TIMEOUT:-600}

for tool in curl wrk awk; do
  command -v "$tool" >/dev/null || { echo "load-test: $tool is required" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$work/report.md
failures=0

log() { printf 'load-test: %s\n' "$*" >&2; }
fail() {
  log "FAIL: $*"
  failures=$((failures + 1))
}
now() { date +%s.%N; }
# The first string or number field of that name in a JSON text, without jq (not on every machine).
field() { grep -o "\"$1\":\"\{0,1\}[^\",}]*" | head -n 1 | sed 's/^[^:]*:"\{0,1\}//'; }

# --- ready -------------------------------------------------------------------------------------------------------
log "waiting up to ${READY_TIMEOUT}s for $BASE_URL/health/ready"
deadline=$(($(date +%s) + READY_TIMEOUT))
until curl -fsS -o /dev/null "$BASE_URL/health/ready"; do
  if (($(date +%s) >= deadline)); then
    log "not ready after ${READY_TIMEOUT}s:"
    curl -sS "$BASE_URL/health/ready" >&2 || true
    exit 1
  fi
  sleep 2
done

# The seed's request: Grupo LATAM, international, July. The seed's own benchmark sent 29 numbers and measured 500s.
seed_body='{"data":[0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,0]}'
v2_body='{"inputs":[{"name":"features","datatype":"FP32","shape":[1,37],"data":[0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,1,0,0,0,0,0,0]}]}'

answer=$(curl -fsS "$BASE_URL/predict_api" -H 'Content-Type: application/json' -d "$seed_body") || answer="(error)"
[[ $answer == '"1"' ]] || fail "/predict_api answered $answer to the seed's request, expected \"1\""
answer=$(curl -fsS "$BASE_URL/v2/models/flight-delay/infer" -H 'Content-Type: application/json' -d "$v2_body") || answer="(error)"
[[ $answer == *'"name":"label"'*'"data":[1]'* ]] || fail "/v2 infer answered $answer"

# --- wrk -----------------------------------------------------------------------------------------------------------
# wrk's Lua: POST the body; at the end print one line of figures (latencies are in microseconds).
write_lua() {
  cat >"$work/$1.lua" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %.0f %.0f %.0f %.0f %.0f\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
LUA
}
write_lua seed "$seed_body"
write_lua v2 "$v2_body"

{
  echo "## FlightDelay load test"
  echo
  echo "wrk, $THREADS threads, $CONNECTIONS connections, $DURATION per endpoint, against $BASE_URL (after a 5 s warm-up)."
  echo
  echo "| endpoint | requests | requests/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-2xx | socket errors |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$report"

run_wrk() {
  local name=$1 path=$2 out
  wrk -t "$THREADS" -c "$CONNECTIONS" -d 5s -s "$work/$name.lua" "$BASE_URL$path" >/dev/null
  log "wrk $path for $DURATION"
  out=$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "$DURATION" --timeout 5s -s "$work/$name.lua" "$BASE_URL$path")
  printf '%s\n' "$out" >&2
  # shellcheck disable=SC2034 # every field is read; some only for the table
  read -r _ requests seconds status_errors socket_errors p50 p90 p99 p999 max < <(grep '^RESULT ' <<<"$out")
  awk -v path="$path" -v n="$requests" -v s="$seconds" -v se="$status_errors" -v ke="$socket_errors" \
    -v p50="$p50" -v p90="$p90" -v p99="$p99" -v p999="$p999" -v max="$max" 'BEGIN {
      printf "| `POST %s` | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %d |\n",
        path, n, n / s, p50 / 1000, p90 / 1000, p99 / 1000, p999 / 1000, max / 1000, se, ke }' >>"$report"
  ((requests > 0)) || fail "wrk made no requests to $path"
  ((status_errors == 0)) || fail "$status_errors answers from $path were not 2xx"
  ((socket_errors == 0)) || fail "$socket_errors socket errors or timeouts on $path"
}
run_wrk seed /predict_api
run_wrk v2 /v2/models/flight-delay/infer

# --- batch job -----------------------------------------------------------------------------------------------------
log "generating a CSV of $JOB_ROWS flights"
awk -v n="$JOB_ROWS" 'BEGIN {
  split("Grupo LATAM|Sky Airline|Aerolineas Argentinas|Copa Air|Latin American Wings|Avianca|JetSmart SPA|Gol Trans|American Airlines|Iberia", airlines, "|")
  print "airline,flightType,month"
  for (i = 0; i < n; i++) printf "%s,%s,%d\n", airlines[i % 10 + 1], (i % 3 ? "N" : "I"), i % 12 + 1
}' >"$work/flights.csv"

log "submitting the job"
started=$(now)
submitted=$(curl -sS "$BASE_URL/v1/jobs" -H 'Content-Type: text/csv' --data-binary "@$work/flights.csv" -w '\n%{http_code}')
code=${submitted##*$'\n'}
job_id=$(field id <<<"${submitted%$'\n'*}")
accepted=$(now)
status=none
processed=0
if [[ $code != 202 || -z $job_id ]]; then
  fail "POST /v1/jobs answered $code: ${submitted%$'\n'*}"
else
  deadline=$(($(date +%s) + JOB_TIMEOUT))
  while :; do
    job=$(curl -fsS "$BASE_URL/v1/jobs/$job_id") || job=""
    status=$(field status <<<"$job")
    processed=$(field processedRows <<<"$job")
    case $status in
      succeeded | failed | canceled) break ;;
    esac
    if (($(date +%s) >= deadline)); then
      fail "job $job_id still '$status' after ${JOB_TIMEOUT}s ($processed of $JOB_ROWS rows)"
      break
    fi
    sleep 0.5
  done
fi
finished=$(now)
[[ $status == succeeded ]] || fail "job $job_id ended '$status': $job"
[[ $processed == "$JOB_ROWS" ]] || fail "job $job_id processed $processed of $JOB_ROWS rows"

downloaded=0
download_seconds=0
if [[ $status == succeeded ]]; then
  t0=$(now)
  curl -fsS "$BASE_URL/v1/jobs/$job_id/results.csv" -o "$work/results.csv" || fail "results.csv download failed"
  download_seconds=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
  downloaded=$(($(wc -l <"$work/results.csv") - 1))
  ((downloaded == JOB_ROWS)) || fail "results.csv has $downloaded rows, expected $JOB_ROWS"
fi

awk -v rows="$JOB_ROWS" -v t0="$started" -v t1="$accepted" -v t2="$finished" -v status="$status" \
  -v dl="$downloaded" -v dls="$download_seconds" 'BEGIN {
  total = t2 - t0
  print ""
  print "| batch job | value |"
  print "| --- | ---: |"
  printf "| rows (CSV upload) | %d |\n", rows
  printf "| upload to 202 Accepted | %.2f s |\n", t1 - t0
  printf "| submit to %s | %.2f s |\n", status, total
  printf "| throughput | %.0f rows/s |\n", (total > 0 ? rows / total : 0)
  printf "| time per 100k rows (SLO: 60 s) | %.2f s |\n", (rows > 0 ? total * 100000 / rows : 0)
  printf "| results.csv rows, download time | %d, %s s |\n", dl, dls
}' >>"$report"

echo >>"$report"
if ((failures == 0)); then
  echo "All answers were 2xx and the job succeeded with one result per row." >>"$report"
else
  echo "**$failures check(s) failed**: see the job log." >>"$report"
fi

cat "$report"
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  cat "$report" >>"$GITHUB_STEP_SUMMARY"
fi
exit $((failures > 0))
