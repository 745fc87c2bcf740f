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
    TrainingStatistics? Training = null)
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
