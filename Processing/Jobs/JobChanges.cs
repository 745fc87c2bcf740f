using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Wakes whoever waits for a job to change (a long poll, <c>Prefer: wait</c>) when its status or progress changes,
/// with no database query per waiter per tick. <see cref="JobLifecycle"/> signals the changes this process makes;
/// with PostgreSQL, <see cref="Listener"/> relays every process's changes (the <c>jobs</c> table's trigger sends
/// <c>NOTIFY job_changed, '&lt;id&gt;'</c> at commit). A signal is a hint to read the job again, never its state:
/// one lost (a dropped connection) costs a waiter its wait, not a wrong answer.
/// </summary>
public sealed class JobChanges
{
    /// <summary>The PostgreSQL channel the <c>jobs</c> trigger notifies, with the job id as its payload.</summary>
    public const string Channel = "job_changed";

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Entry> _waiting = [];

    /// <summary>Jobs with at least one waiter now (a gauge for tests and metrics).</summary>
    public int Watched
    {
        get { lock (_lock) return _waiting.Count; }
    }

    /// <summary>
    /// Starts watching a job: take it before reading the job, then await <see cref="Subscription.ChangedAsync"/>, so
    /// a change between the read and the wait is not missed. Dispose it when done.
    /// </summary>
    public Subscription Watch(Guid jobId)
    {
        lock (_lock)
        {
            if (!_waiting.TryGetValue(jobId, out var entry))
                _waiting[jobId] = entry = new Entry();
            entry.Waiters++;
            return new Subscription(this, jobId, entry);
        }
    }

    /// <summary>The job changed (or is gone): wakes every subscription taken before now.</summary>
    public void Notify(Guid jobId)
    {
        Entry? entry;
        lock (_lock)
            if (!_waiting.Remove(jobId, out entry)) return;
        entry.Changed.TrySetResult();
    }

    /// <summary>Wakes every waiter (after a gap in the relay, when changes may have been missed).</summary>
    public void NotifyAll()
    {
        List<Entry> entries;
        lock (_lock)
        {
            entries = [.. _waiting.Values];
            _waiting.Clear();
        }
        foreach (var entry in entries) entry.Changed.TrySetResult();
    }

    /// <summary>
    /// Reads a job's state with <paramref name="read"/> until <paramref name="done"/> says it is what the caller waits
    /// for or <paramref name="wait"/> has passed, reading again only when the job is signalled (and once more at the
    /// deadline, so the answer is current). Returns the last reading.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> (the client went away).</exception>
    public async Task<T> ReadUntilAsync<T>(Guid jobId, TimeSpan wait, Func<CancellationToken, Task<T>> read, Func<T, bool> done, CancellationToken cancellationToken)
    {
        var deadline = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(wait.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        while (true)
        {
            using var watch = Watch(jobId);
            var value = await read(cancellationToken).ConfigureAwait(false);
            var left = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), deadline);
            if (done(value) || left <= TimeSpan.Zero) return value;
            if (!await watch.ChangedAsync(left, cancellationToken).ConfigureAwait(false))
                deadline = System.Diagnostics.Stopwatch.GetTimestamp();
        }
    }

    private void Release(Guid jobId, Entry entry)
    {
        lock (_lock)
            if (--entry.Waiters == 0 && _waiting.TryGetValue(jobId, out var current) && current == entry)
                _waiting.Remove(jobId);
    }

    internal sealed class Entry
    {
        public readonly TaskCompletionSource Changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Waiters;
    }

    /// <summary>One waiter's watch on one job, from <see cref="Watch"/>.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly JobChanges _owner;
        private readonly Guid _jobId;
        private readonly Entry _entry;
        private bool _disposed;

        internal Subscription(JobChanges owner, Guid jobId, Entry entry) => (_owner, _jobId, _entry) = (owner, jobId, entry);

        /// <summary>True once the job has changed since <see cref="Watch"/>; false when <paramref name="timeout"/> passed first.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> (the client went away).</exception>
        public async Task<bool> ChangedAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (timeout <= TimeSpan.Zero) return _entry.Changed.Task.IsCompleted;
            try
            {
                await _entry.Changed.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _owner.Release(_jobId, _entry);
        }
    }

    /// <summary>
    /// Relays PostgreSQL's <c>job_changed</c> notifications (any process's commits) to <see cref="JobChanges"/>: one
    /// connection, <c>LISTEN</c>ing, reopened with backoff when it drops. After each (re)connect every waiter is woken
    /// once, since changes made meanwhile went unheard. Run by the API, where clients wait.
    /// </summary>
    public sealed class Listener(Hosting.JobsHosting hosting, JobChanges changes, ILogger<Listener> logger) : BackgroundService
    {
        private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            // Its own connection, out of the pool (a pooled one's reset would UNLISTEN), with keepalives so a dead peer is noticed.
            var connectionString = new NpgsqlConnectionStringBuilder(hosting.Database.ConnectionString) { Pooling = false, KeepAlive = 15 }.ConnectionString;
            var backoff = TimeSpan.FromSeconds(1);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await using var connection = new NpgsqlConnection(connectionString);
                    connection.Notification += (_, e) =>
                    {
                        if (Guid.TryParse(e.Payload, out var id)) changes.Notify(id);
                    };
                    await connection.OpenAsync(stoppingToken);
                    await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                        await listen.ExecuteNonQueryAsync(stoppingToken);
                    changes.NotifyAll();
                    backoff = TimeSpan.FromSeconds(1);
                    while (true) await connection.WaitAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or IOException or InvalidOperationException)
                {
                    logger.LogWarning(ex, "Listening for job changes failed; long polls answer at their deadline until it is back (retry in {Backoff})", backoff);
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                }
            }
        }
    }
}
