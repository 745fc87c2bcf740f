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
    public static ModelCard Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ScoringJsonContext.Default.ModelCard)
        ?? throw new InvalidDataException($"Model card '{path}' is empty.");

    public void Write(string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(this, ScoringJsonContext.Default.ModelCard) + "\n");
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

/// <summary>How often flights were delayed in the training data, overall, by airline (in schema order) and by month.</summary>
public sealed record TrainingStatistics(
    int Flights,
    int Delayed,
    double DelayRate,
    IReadOnlyList<AirlineDelayRate> ByAirline,
    IReadOnlyList<MonthDelayRate> ByMonth);

public sealed record AirlineDelayRate(string Airline, int Flights, int Delayed, double DelayRate);

public sealed record MonthDelayRate(int Month, int Flights, int Delayed, double DelayRate);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ModelCard))]
internal sealed partial class ScoringJsonContext : JsonSerializerContext;
