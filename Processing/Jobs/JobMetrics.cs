using System.Diagnostics.Metrics;

namespace FlightDelay.Processing.Jobs;

/// <summary>Chunk throughput, duration, failures and re-dispatches; jobs by state and the backlog's age.</summary>
public sealed class JobMetrics
{
    public const string MeterName = "FlightDelay.Jobs";

    private readonly Counter<long> _chunks;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _chunkDuration;
    private readonly Counter<long> _redispatched;
    private readonly Counter<long> _callbacks;
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
        meter.CreateObservableGauge("flightdelay.jobs",
            () => _state.Jobs.Select(j => new Measurement<long>(j.Value, new KeyValuePair<string, object?>("state", j.Key))),
            "{job}", "Jobs by state, as the database last said.");
        meter.CreateObservableGauge("flightdelay.job.backlog.age", () => _state.BacklogAgeSeconds, "s",
            "Age of the oldest job that still has chunks to score; 0 when there is none.");
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

    public void CallbackDelivery(string outcome) => _callbacks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
