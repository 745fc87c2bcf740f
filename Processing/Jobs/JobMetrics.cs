using System.Diagnostics.Metrics;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Processing.Jobs;

/// <summary>Chunk throughput, duration, failures and re-dispatches; jobs finished and how long they took; jobs by state and the backlog's age.</summary>
public sealed class JobMetrics
{
    public const string MeterName = "FlightDelay.Jobs";

    private readonly Counter<long> _chunks;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _chunkDuration;
    private readonly Counter<long> _redispatched;
    private readonly Counter<long> _callbacks;
    private readonly Counter<long> _jobsFinished;
    private readonly Histogram<double> _jobDurationPer100kRows;
    private volatile JobStateSnapshot _state = new(new Dictionary<string, long>(), 0);

    public JobMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _chunks = meter.CreateCounter<long>("flightdelay.job.chunks", "{chunk}", "Chunks handled, by outcome (done, retried, failed, skipped).");
        _rows = meter.CreateCounter<long>("flightdelay.job.rows", "{row}", "Rows scored and stored by batch jobs.");
        _chunkDuration = meter.CreateHistogram<double>("flightdelay.job.chunk.duration", "s", "Time to read, score and store one chunk.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _redispatched = meter.CreateCounter<long>("flightdelay.job.chunks.redispatched", "{chunk}", "Stalled chunks sent again.");
        _callbacks = meter.CreateCounter<long>("flightdelay.callback.deliveries", "{attempt}",
            "Job callback attempts, by outcome (delivered, retried, failed: the last attempt failed and the callback is given up).");
        _jobsFinished = meter.CreateCounter<long>("flightdelay.jobs.finished", "{job}",
            "Jobs that reached a final state, by status (succeeded, failed, canceled), counted by the instance that finished them.");
        _jobDurationPer100kRows = meter.CreateHistogram<double>("flightdelay.job.duration.per_100k_rows", "s",
            "Submit-to-succeeded time of each succeeded job, scaled to 100k rows (smaller jobs count as 100k rows).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 15, 30, 60, 120, 300, 600, 1800] });
        meter.CreateObservableGauge("flightdelay.jobs",
            () => _state.Jobs.Select(j => new Measurement<long>(j.Value, new KeyValuePair<string, object?>("state", j.Key))),
            "{job}", "Jobs by state, as the database last said.");
        meter.CreateObservableGauge("flightdelay.job.backlog.age", () => _state.BacklogAgeSeconds, "s",
            "Age of the oldest job that still has chunks to score; 0 when there is none.");
    }

    /// <summary>
    /// Adds zero to every outcome the alerts count, so each series exists from the start: <c>increase()</c> sees a pod's
    /// first failure as 0 to 1, where a series born at its first increment shows no increase at all. Called once the
    /// meter provider listens (<see cref="CounterInitializer"/>); earlier measurements are dropped.
    /// </summary>
    public void InitializeCounters()
    {
        foreach (var outcome in new[] { "done", "retried", "failed", "skipped" })
            _chunks.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        foreach (var outcome in new[] { "delivered", "retried", "failed" })
            _callbacks.Add(0, new KeyValuePair<string, object?>("outcome", outcome));
        foreach (var status in new[] { "succeeded", "failed", "canceled" })
            _jobsFinished.Add(0, new KeyValuePair<string, object?>("status", status));
        _rows.Add(0);
        _redispatched.Add(0);
    }

    /// <summary>Runs <see cref="InitializeCounters"/> at start, after the OpenTelemetry host service (registered earlier) started listening.</summary>
    internal sealed class CounterInitializer(JobMetrics metrics) : Microsoft.Extensions.Hosting.IHostedService
    {
        /// <inheritdoc />
        public Task StartAsync(CancellationToken cancellationToken)
        {
            metrics.InitializeCounters();
            return Task.CompletedTask;
        }

        /// <inheritdoc />
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>What <see cref="JobStateSweep"/> last read from the database.</summary>
    public void UpdateState(IReadOnlyDictionary<string, long> jobsByState, double backlogAgeSeconds) =>
        _state = new JobStateSnapshot(jobsByState, backlogAgeSeconds);

    private sealed record JobStateSnapshot(IReadOnlyDictionary<string, long> Jobs, double BacklogAgeSeconds);

    public void ChunkDone(int rows, TimeSpan duration)
    {
        _chunks.Add(1, new KeyValuePair<string, object?>("outcome", "done"));
        _rows.Add(rows);
        _chunkDuration.Record(duration.TotalSeconds);
    }

    public void ChunkOutcome(string outcome) => _chunks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Redispatched(int chunks) => _redispatched.Add(chunks);

    /// <summary>
    /// A job failed or was canceled. Call it once, after the commit of the update that made the job final (the one that
    /// found it active), never for an update that found it final already.
    /// </summary>
    public void JobFinished(JobStatus status) =>
        _jobsFinished.Add(1, new KeyValuePair<string, object?>("status", status switch
        {
            JobStatus.Succeeded => "succeeded",
            JobStatus.Failed => "failed",
            JobStatus.Canceled => "canceled",
            _ => throw new ArgumentException($"{status} is not a final status.", nameof(status)),
        }));

    /// <summary>A job succeeded (same rule as <see cref="JobFinished"/>): counted, and its duration per 100k rows recorded.</summary>
    public void JobSucceeded(DateTime createdAt, DateTime finishedAt, int totalRows)
    {
        JobFinished(JobStatus.Succeeded);
        _jobDurationPer100kRows.Record((finishedAt - createdAt).TotalSeconds * 100_000 / Math.Max(totalRows, 100_000));
    }

    public void CallbackDelivery(string outcome) => _callbacks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
