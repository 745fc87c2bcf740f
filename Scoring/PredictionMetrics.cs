using System.Diagnostics.Metrics;

namespace FlightDelay.Scoring;

/// <summary>
/// Predictions by label, path and month, and the distribution of predicted probabilities (drift signals). The month
/// lets the drift rule weight the expected delayed share by the traffic's month mix.
/// </summary>
public sealed class PredictionMetrics
{
    public const string MeterName = "FlightDelay.Predictions";

    private const int Months = 12;

    /// <summary>The attribute values "1" … "12", so recording allocates nothing.</summary>
    private static readonly string[] MonthNames = [.. Enumerable.Range(1, Months).Select(m => m.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    private readonly Counter<long> _predictions;
    private readonly Histogram<double> _probability;

    public PredictionMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _predictions = meter.CreateCounter<long>("flightdelay.predictions", "{prediction}", "Flights scored, by predicted label, path and month.");
        _probability = meter.CreateHistogram<double>("flightdelay.prediction.probability", null, "Predicted delay probability.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] });
    }

    /// <summary>
    /// Records <paramref name="predictions"/> and the <paramref name="features"/> they were scored from (37 per
    /// prediction). On the synchronous hot path: counts per (month, label) on the stack, then one
    /// <c>Add</c> per non-empty bucket.
    /// </summary>
    public void Record(ReadOnlySpan<Prediction> predictions, ReadOnlySpan<float> features, string path)
    {
        if (features.Length != predictions.Length * FlightSchema.FeatureCount)
            throw new ArgumentException($"Expected {FlightSchema.FeatureCount} features per prediction.", nameof(features));

        // Index month * 2 + delayed; month 0 is "no month feature set".
        Span<long> counts = stackalloc long[(Months + 1) * 2];
        counts.Clear();
        for (var i = 0; i < predictions.Length; i++)
        {
            var p = predictions[i];
            var month = Month(features.Slice(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount));
            counts[month * 2 + (p.Delayed ? 1 : 0)]++;
            _probability.Record(p.Probability, new KeyValuePair<string, object?>("path", path));
        }

        for (var bucket = 0; bucket < counts.Length; bucket++)
        {
            if (counts[bucket] == 0) continue;
            var label = new KeyValuePair<string, object?>("label", (bucket & 1) == 1 ? "delayed" : "on_time");
            var pathTag = new KeyValuePair<string, object?>("path", path);
            var month = bucket / 2;
            if (month == 0)
                _predictions.Add(counts[bucket], label, pathTag);
            else
                _predictions.Add(counts[bucket], label, pathTag, new KeyValuePair<string, object?>("month", MonthNames[month - 1]));
        }
    }

    /// <summary>
    /// The flight's month, 1–12: the first non-zero of the one-hot month features (a valid row has exactly one);
    /// 0 when none is set, such a prediction is counted without a month attribute.
    /// </summary>
    private static int Month(ReadOnlySpan<float> row) =>
        row.Slice(FlightSchema.MonthOffset, Months).IndexOfAnyExcept(0f) + 1;
}
