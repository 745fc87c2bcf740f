using System.Diagnostics.Metrics;

namespace FlightDelay.Scoring;

/// <summary>Predictions by label and the distribution of predicted probabilities (a drift signal).</summary>
public sealed class PredictionMetrics
{
    public const string MeterName = "FlightDelay.Predictions";

    private readonly Counter<long> _predictions;
    private readonly Histogram<double> _probability;

    public PredictionMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _predictions = meter.CreateCounter<long>("flightdelay.predictions", "{prediction}", "Flights scored, by predicted label and path.");
        _probability = meter.CreateHistogram<double>("flightdelay.prediction.probability", null, "Predicted delay probability.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] });
    }

    public void Record(ReadOnlySpan<Prediction> predictions, string path)
    {
        long delayed = 0;
        foreach (var p in predictions)
        {
            if (p.Delayed) delayed++;
            _probability.Record(p.Probability, new KeyValuePair<string, object?>("path", path));
        }
        _predictions.Add(delayed, new("label", "delayed"), new("path", path));
        _predictions.Add(predictions.Length - delayed, new("label", "on_time"), new("path", path));
    }
}
