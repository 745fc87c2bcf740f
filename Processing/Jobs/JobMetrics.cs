using System.Diagnostics.Metrics;

namespace FlightDelay.Processing.Jobs;

/// <summary>Chunk throughput, duration, failures and re-dispatches.</summary>
public sealed class JobMetrics
{
    public const string MeterName = "FlightDelay.Jobs";

    private readonly Counter<long> _chunks;
    private readonly Counter<long> _rows;
    private readonly Histogram<double> _chunkDuration;
    private readonly Counter<long> _redispatched;

    public JobMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _chunks = meter.CreateCounter<long>("flightdelay.job.chunks", "{chunk}", "Chunks handled, by outcome (done, retried, failed, skipped).");
        _rows = meter.CreateCounter<long>("flightdelay.job.rows", "{row}", "Rows scored and stored by batch jobs.");
        _chunkDuration = meter.CreateHistogram<double>("flightdelay.job.chunk.duration", "s", "Time to read, score and store one chunk.");
        _redispatched = meter.CreateCounter<long>("flightdelay.job.chunks.redispatched", "{chunk}", "Stalled chunks sent again.");
    }

    public void ChunkDone(int rows, TimeSpan duration)
    {
        _chunks.Add(1, new KeyValuePair<string, object?>("outcome", "done"));
        _rows.Add(rows);
        _chunkDuration.Record(duration.TotalSeconds);
    }

    public void ChunkOutcome(string outcome) => _chunks.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Redispatched(int chunks) => _redispatched.Add(chunks);
}
