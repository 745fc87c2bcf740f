using System.Diagnostics.Metrics;
using FlightDelay.Processing.Jobs;

namespace FlightDelay.Tests.Support;

/// <summary>Counts chunk commands with one outcome (e.g. skipped) as the in-process workers report them through their metrics.</summary>
public sealed class ChunkOutcomeCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public ChunkOutcomeCounter(string outcome)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == JobMetrics.MeterName && instrument.Name == "flightdelay.job.chunks")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "outcome" && Equals(tag.Value, outcome))
                    Interlocked.Add(ref _count, value);
            }
        });
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
