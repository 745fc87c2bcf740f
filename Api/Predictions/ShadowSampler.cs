using System.Diagnostics.Metrics;
using System.Threading.Channels;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Predictions;

/// <summary>
/// Shadow scoring of synchronous requests: a sample (<see cref="ModelRegistryOptions.ShadowSampleRate"/>) of the
/// requests the champion answered is handed to a background loop, which scores it with the challenger and counts the
/// comparison: <c>flightdelay.model.shadow.rows</c> by challenger, served version and whether the labels agreed, and
/// <c>flightdelay.model.shadow.difference</c>, the challenger's probability minus the served one. The request itself
/// pays a null check without a challenger, and a random draw (plus a copy when sampled) with one; when the loop falls
/// behind, samples are dropped (<c>flightdelay.model.shadow.dropped</c>), never queued without bound.
/// </summary>
public sealed class ShadowSampler : BackgroundService
{
    private readonly CurrentModel _current;
    private readonly IOptionsMonitor<ModelRegistryOptions> _options;
    private readonly Channel<Sample> _samples = Channel.CreateBounded<Sample>(new BoundedChannelOptions(64)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });
    private readonly Counter<long> _rows;
    private readonly Counter<long> _dropped;
    private readonly Histogram<double> _difference;

    public ShadowSampler(CurrentModel current, IOptionsMonitor<ModelRegistryOptions> options, IMeterFactory meters)
    {
        _current = current;
        _options = options;
        var meter = meters.Create(ModelReloader.MeterName);
        _rows = meter.CreateCounter<long>("flightdelay.model.shadow.rows", "{row}", "Sync rows the challenger also scored, by challenger, served version and label agreement.");
        _dropped = meter.CreateCounter<long>("flightdelay.model.shadow.dropped", "{request}", "Sampled sync requests dropped because shadow scoring was behind.");
        _difference = meter.CreateHistogram<double>("flightdelay.model.shadow.difference", null, "Challenger minus served probability, per sync row scored in the shadow.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [-0.5, -0.2, -0.1, -0.05, -0.02, 0.02, 0.05, 0.1, 0.2, 0.5] });
    }

    /// <summary>
    /// Offers a request the model <paramref name="servedVersion"/> answered: <paramref name="features"/> 37 per row, one
    /// <paramref name="served"/> prediction per row. Sampled only while a challenger other than the served version is set.
    /// </summary>
    public void Offer(ReadOnlySpan<float> features, ReadOnlySpan<Prediction> served, string servedVersion)
    {
        if (_current.Challenger is not { } challenger || challenger.Version == servedVersion) return;
        var rate = _options.CurrentValue.ShadowSampleRate;
        if (rate <= 0 || Random.Shared.NextDouble() >= rate) return;
        if (!_samples.Writer.TryWrite(new Sample(challenger, servedVersion, features.ToArray(), served.ToArray())))
            _dropped.Add(1);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var sample in _samples.Reader.ReadAllAsync(stoppingToken))
            {
                var shadow = new Prediction[sample.Served.Length];
                sample.Challenger.PredictBatch(sample.Features, shadow);
                var challenger = new KeyValuePair<string, object?>("challenger", sample.Challenger.Version);
                var servedBy = new KeyValuePair<string, object?>("served", sample.ServedVersion);
                var agreed = shadow.Zip(sample.Served).LongCount(p => p.First.Delayed == p.Second.Delayed);
                if (agreed > 0) _rows.Add(agreed, challenger, servedBy, new KeyValuePair<string, object?>("agreed", "true"));
                if (agreed < shadow.Length) _rows.Add(shadow.Length - agreed, challenger, servedBy, new KeyValuePair<string, object?>("agreed", "false"));
                for (var i = 0; i < shadow.Length; i++)
                    _difference.Record(shadow[i].Probability - sample.Served[i].Probability, challenger);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private sealed record Sample(FlightModel Challenger, string ServedVersion, float[] Features, Prediction[] Served);
}
