using System.Diagnostics.Metrics;

namespace FlightDelay.Scoring;

/// <summary>
/// Predictions by label, path and month, the distribution of predicted probabilities, and the scored flights' inputs
/// by field and value (drift signals). The month lets the drift rule weight the expected delayed share by the
/// traffic's month mix; the inputs give the population stability index of each field against the training data
/// (<see cref="Drift"/>).
/// </summary>
public sealed class PredictionMetrics
{
    public const string MeterName = "FlightDelay.Predictions";

    private const int Months = 12;

    /// <summary>
    /// The <c>field</c> and <c>value</c> attributes of each of the 37 features (<see cref="Drift.Fields"/>), so
    /// counting inputs allocates nothing.
    /// </summary>
    private static readonly (KeyValuePair<string, object?> Field, KeyValuePair<string, object?> Value)[] InputTags =
        [.. Drift.Fields.SelectMany(f => f.Values.Select(v => (new KeyValuePair<string, object?>("field", f.Name), new KeyValuePair<string, object?>("value", (object?)v))))];

    private readonly Counter<long> _predictions;
    private readonly Counter<long> _inputs;
    private readonly Histogram<double> _probability;

    public PredictionMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _predictions = meter.CreateCounter<long>("flightdelay.predictions", "{prediction}", "Flights scored, by predicted label, path and month.");
        _inputs = meter.CreateCounter<long>("flightdelay.prediction.inputs", "{flight}",
            "Flights scored, by input field (airline, flight_type, month) and its value; a field with no feature set is not counted.");
        _probability = meter.CreateHistogram<double>("flightdelay.prediction.probability", null, "Predicted delay probability.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9] });
    }

    /// <summary>
    /// Records <paramref name="predictions"/> and the <paramref name="features"/> they were scored from (37 per
    /// prediction). On the synchronous hot path: counts per (month, label) and per input value on the stack, then one
    /// <c>Add</c> per non-empty bucket.
    /// </summary>
    public void Record(ReadOnlySpan<Prediction> predictions, ReadOnlySpan<float> features, string path)
    {
        if (features.Length != predictions.Length * FlightSchema.FeatureCount)
            throw new ArgumentException($"Expected {FlightSchema.FeatureCount} features per prediction.", nameof(features));

        // Index month * 2 + delayed; month 0 is "no month feature set" (such a prediction is counted without a month).
        Span<long> counts = stackalloc long[(Months + 1) * 2];
        counts.Clear();
        Span<long> inputs = stackalloc long[FlightSchema.FeatureCount];
        inputs.Clear();
        for (var i = 0; i < predictions.Length; i++)
        {
            var p = predictions[i];
            var row = features.Slice(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount);
            Drift.Count(row, inputs);
            var month = Drift.Month.ValueOf(row) + 1;
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
                _predictions.Add(counts[bucket], label, pathTag, new KeyValuePair<string, object?>("month", Drift.Month.Values[month - 1]));
        }

        for (var feature = 0; feature < inputs.Length; feature++)
        {
            if (inputs[feature] == 0) continue;
            var (field, value) = InputTags[feature];
            _inputs.Add(inputs[feature], field, value);
        }
    }
}
