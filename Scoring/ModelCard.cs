using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlightDelay.Scoring;

/// <summary>What a trained model is and how well it did on the held-out test set.</summary>
public sealed record ModelCard(
    string Version,
    string Algorithm,
    DateTimeOffset TrainedAt,
    int TrainRows,
    int TestRows,
    ModelMetrics Metrics)
{
    public static ModelCard Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllText(path), ScoringJsonContext.Default.ModelCard)
        ?? throw new InvalidDataException($"Model card '{path}' is empty.");

    public void Write(string path) =>
        File.WriteAllText(path, JsonSerializer.Serialize(this, ScoringJsonContext.Default.ModelCard) + "\n");
}

/// <summary>Test-set metrics for the delayed class; <see cref="ConfusionMatrix"/> is [[tn, fp], [fn, tp]] as scikit-learn prints it.</summary>
public sealed record ModelMetrics(
    double Accuracy,
    double Precision,
    double Recall,
    double F1,
    double RocAuc,
    long[][] ConfusionMatrix);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ModelCard))]
internal sealed partial class ScoringJsonContext : JsonSerializerContext;
