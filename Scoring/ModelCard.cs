using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlightDelay.Scoring;

/// <summary>
/// What a trained model is, how well it did on the held-out test set and what the data it learned from looked like.
/// <see cref="Training"/> is null in cards written before it existed.
/// </summary>
public sealed record ModelCard(
    string Version,
    string Algorithm,
    DateTimeOffset TrainedAt,
    int TrainRows,
    int TestRows,
    ModelMetrics Metrics,
    TrainingStatistics? Training = null,
    CalibrationReport? Calibration = null)
{
    public static ModelCard Read(string path) => Parse(File.ReadAllText(path), $"Model card '{path}'");

    /// <summary>Reads a card from its JSON (as <c>model-card.json</c> holds it).</summary>
    /// <exception cref="InvalidDataException">The JSON is <c>null</c>.</exception>
    /// <exception cref="JsonException">The text is not a card.</exception>
    public static ModelCard Parse(string json, string source = "The model card") =>
        JsonSerializer.Deserialize(json, ScoringJsonContext.Default.ModelCard)
        ?? throw new InvalidDataException($"{source} is empty.");

    /// <summary>The card as <c>model-card.json</c> holds it: indented camelCase JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, ScoringJsonContext.Default.ModelCard);

    public void Write(string path) => File.WriteAllText(path, ToJson() + "\n");
}

/// <summary>
/// Test-set metrics for the delayed class; <see cref="ConfusionMatrix"/> is [[tn, fp], [fn, tp]] as scikit-learn prints it.
/// <see cref="RocCurve"/> runs from (0, 0) to (1, 1), thinned to about a hundred points; null in older cards.
/// </summary>
public sealed record ModelMetrics(
    double Accuracy,
    double Precision,
    double Recall,
    double F1,
    double RocAuc,
    long[][] ConfusionMatrix,
    IReadOnlyList<RocPoint>? RocCurve = null);

/// <summary>
/// How the model's probabilities were calibrated and how well they match the test set. <see cref="Method"/> is
/// <c>Platt</c> or <c>Isotonic</c>; <see cref="DecisionThreshold"/> is the calibrated probability at which
/// <c>delayed</c> turns true (the seed's decision, kept); Brier scores (lower is better) and expected calibration
/// errors (ECE, over ten bands) on the test set, calibrated and as the uncalibrated model had them;
/// <see cref="HeldOutBrier"/> the Brier score that chose the method, on held-out training folds;
/// the mean probability beside the observed delay rate; and the reliability table, ten bands of 0.1.
/// Null in cards written before calibration.
/// </summary>
public sealed record CalibrationReport(
    string Method,
    double DecisionThreshold,
    double Brier,
    double ExpectedCalibrationError,
    double UncalibratedBrier,
    double UncalibratedExpectedCalibrationError,
    double HeldOutBrier,
    double MeanProbability,
    double ObservedRate,
    IReadOnlyList<ReliabilityBand> Reliability);

/// <summary>Test flights whose calibrated probability is in [<see cref="From"/>, <see cref="To"/>): how many, their mean probability and how many were delayed.</summary>
public sealed record ReliabilityBand(double From, double To, int Flights, double MeanProbability, double ObservedRate);

/// <summary>One point of the ROC curve: predicting "delayed" when the probability is at least <see cref="Threshold"/>.</summary>
public sealed record RocPoint(double Threshold, double FalsePositiveRate, double TruePositiveRate);

/// <summary>
/// How often flights were delayed in the training data, overall, by airline (in schema order), by month and by airline
/// and flight type (<see cref="ByAirlineType"/>: every airline with <c>I</c> and <c>N</c>, zero flights included, so a
/// reader can tell a combination the model never saw; null in cards written before it existed).
/// </summary>
public sealed record TrainingStatistics(
    [property: Description("Training flights.")] int Flights,
    [property: Description("Training flights delayed more than 15 minutes.")] int Delayed,
    [property: Description("Delayed / Flights: the base rate of a delay.")] double DelayRate,
    [property: Description("Per airline, in the schema's order.")] IReadOnlyList<AirlineDelayRate> ByAirline,
    [property: Description("Per month, January to December.")] IReadOnlyList<MonthDelayRate> ByMonth,
    [property: Description("Per airline and flight type (I, N), every combination, those with no training flights included (flights 0, delayRate 0). Few flights mean a rough estimate.")]
    IReadOnlyList<AirlineTypeDelayRate>? ByAirlineType = null);

/// <summary>One airline's training flights, how many were delayed and the share.</summary>
public sealed record AirlineDelayRate(string Airline, int Flights, int Delayed, double DelayRate);

/// <summary>One month's training flights, how many were delayed and the share.</summary>
public sealed record MonthDelayRate(int Month, int Flights, int Delayed, double DelayRate);

/// <summary>One airline's training flights of one type (<c>I</c> or <c>N</c>), how many were delayed and the share (0 when none flew).</summary>
public sealed record AirlineTypeDelayRate(string Airline, string FlightType, int Flights, int Delayed, double DelayRate);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ModelCard))]
internal sealed partial class ScoringJsonContext : JsonSerializerContext;
