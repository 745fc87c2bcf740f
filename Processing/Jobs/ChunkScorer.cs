using System.Buffers;
using FlightDelay.Persistence;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;

namespace FlightDelay.Processing.Jobs;

/// <summary>A chunk's scores as stored: its results (<see cref="ResultBytes"/>, one record per row) by <see cref="ModelVersion"/>,
/// and the challenger's in the shadow (<see cref="ShadowVersion"/>, <see cref="ShadowResults"/>; null without a challenger).</summary>
public sealed record ScoredChunk(string ModelVersion, byte[] Results, string? ShadowVersion, byte[]? ShadowResults);

/// <summary>
/// Scores one chunk of a job: the one piece of code for a worker's chunk (<see cref="ChunkProcessor"/>) and a small job
/// the API scores as it accepts it (<see cref="JobOptions.InlineRows"/>). The job's pinned version scores it whatever has
/// been promoted since; the challenger, when there is one, scores the same rows in the shadow; every scored row is
/// counted in the prediction metrics (path <c>job</c>).
/// </summary>
public sealed class ChunkScorer(CurrentModel currentModel, ModelRegistry registry, PredictionMetrics predictionMetrics)
{
    /// <summary>The model a job pinned to <paramref name="pinned"/> is scored with (the champion for null: a job from before pinning).</summary>
    /// <exception cref="InvalidDataException">The version is not in the registry.</exception>
    public async ValueTask<FlightModel> ModelAsync(string? pinned, CancellationToken cancellationToken) =>
        pinned is null ? currentModel.Model
            : await registry.FindAsync(pinned, cancellationToken)
                ?? throw new InvalidDataException($"The job is pinned to model {pinned}, which is not in the model registry.");

    /// <summary>
    /// Scores <paramref name="rowCount"/> rows of <see cref="FlightSchema.FeatureCount"/> features each. Invalid rows
    /// (placeholders of rows skipped at intake, <paramref name="invalidRows"/> of them) keep their places as "not scored";
    /// the valid rows are then moved to the front of <paramref name="features"/>, which the caller owns.
    /// </summary>
    public ScoredChunk Score(FlightModel model, float[] features, int rowCount, int invalidRows)
    {
        var buffer = features;
        var predictions = ArrayPool<Prediction>.Shared.Rent(rowCount);
        try
        {
            // Invalid rows skipped at intake hold their places: score the valid ones, moved together, and put each result
            // back at its row. (Rare: only with onInvalidRow=skip; otherwise every row is valid and nothing moves.)
            var places = invalidRows == 0 ? null : Compact(buffer, rowCount);
            var valid = places?.Length ?? rowCount;
            var results = Score(model, buffer, predictions, places, rowCount);
            predictionMetrics.Record(predictions.AsSpan(0, valid), buffer.AsSpan(0, valid * FlightSchema.FeatureCount), "job");
            // The challenger scores the same rows in the shadow: stored beside, never answered (GET /v1/models/{v}/comparison).
            return currentModel.Challenger is { } challenger && challenger.Version != model.Version
                ? new ScoredChunk(model.Version, results, challenger.Version, Score(challenger, buffer, predictions, places, rowCount))
                : new ScoredChunk(model.Version, results, null, null);
        }
        finally
        {
            ArrayPool<Prediction>.Shared.Return(predictions);
        }
    }

    /// <summary>
    /// Scores the valid rows at the front of <paramref name="features"/> into <paramref name="predictions"/> and encodes
    /// them (<see cref="ResultBytes"/>), each at its row (<paramref name="places"/>; null when every row is valid).
    /// </summary>
    private static byte[] Score(FlightModel model, float[] features, Prediction[] predictions, int[]? places, int rowCount)
    {
        var valid = places?.Length ?? rowCount;
        model.PredictBatch(features.AsMemory(0, valid * FlightSchema.FeatureCount), predictions.AsSpan(0, valid));
        var results = new byte[rowCount * ResultBytes.RowBytes];
        if (places is not null)
            for (var row = 0; row < rowCount; row++) ResultBytes.WriteNotScored(results, row);
        for (var i = 0; i < valid; i++)
            ResultBytes.Write(results, places?[i] ?? i, predictions[i].Delayed, predictions[i].Probability);
        return results;
    }

    /// <summary>Moves the valid rows of <paramref name="features"/> to its front; returns each one's row in the chunk.</summary>
    private static int[] Compact(float[] features, int rows)
    {
        var places = new List<int>(rows);
        for (var row = 0; row < rows; row++)
        {
            var source = features.AsSpan(row * FlightSchema.FeatureCount, FlightSchema.FeatureCount);
            if (FeatureBytes.IsInvalid(source)) continue;
            source.CopyTo(features.AsSpan(places.Count * FlightSchema.FeatureCount, FlightSchema.FeatureCount));
            places.Add(row);
        }
        return [.. places];
    }
}
