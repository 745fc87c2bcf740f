using System.Buffers;
using System.Diagnostics;
using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Scores one delivery of a chunk command: lease the chunk (<see cref="JobLifecycle.LeaseAsync"/>), read its rows,
/// score them in one batch, and complete it with its results. One delivery is one attempt: transient database faults
/// are retried within it while the lease lasts; an attempt that fails releases the chunk for a later retry, or fails it
/// with its job when it was the last (<see cref="JobOptions.MaxAttempts"/>). Never throws for a failed attempt, so the
/// broker holds no retries of its own. Each delivery that leaves a slot of its owner's dispatch window free sends the
/// owner's next held chunks (<see cref="JobLifecycle.ClaimHeldAfterAsync"/>).
/// </summary>
public sealed class ChunkProcessor(
    JobLifecycle lifecycle,
    ChunkDispatcher dispatcher,
    CurrentModel currentModel,
    ModelRegistry registry,
    PredictionMetrics predictionMetrics,
    TimeProvider clock,
    WorkerIdentity worker,
    IOptions<JobOptions> options,
    ILogger<ChunkProcessor> logger)
{
    /// <summary>Waits before retrying a transient fault within one attempt.</summary>
    private static readonly TimeSpan[] TransientRetries = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    public async Task ProcessAsync(ScoreChunk command, CancellationToken cancellationToken)
    {
        await ScoreAsync(command, cancellationToken);
        // Done, failed, or skipped (its job ended): a slot of the owner's window may be free.
        await dispatcher.SendHeldAsync(ct => lifecycle.ClaimHeldAfterAsync(command.JobId, ct), cancellationToken);
    }

    private async Task ScoreAsync(ScoreChunk command, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var lease = await lifecycle.LeaseAsync(command, worker.Id, cancellationToken);
        if (lease is not { Result: LeaseResult.Leased, Chunk: { } chunk }) return;
        // Transient faults are retried only in the first half of the lease, so a retry never outlives it.
        var retryUntil = clock.GetUtcNow() + options.Value.LeaseDuration / 2;

        try
        {
            for (var retry = 0; ; retry++)
            {
                try
                {
                    await ScoreAndStoreAsync(chunk, lease.Token, lease.ModelVersion, started, cancellationToken);
                    return;
                }
                catch (Exception ex) when (retry < TransientRetries.Length && DatabaseErrors.IsTransient(ex) && !cancellationToken.IsCancellationRequested
                    && clock.GetUtcNow() + TransientRetries[retry] < retryUntil)
                {
                    logger.LogInformation(ex, "Chunk {JobId}/{Chunk}: transient fault, retrying within the lease", chunk.JobId, chunk.ChunkIndex);
                    await Task.Delay(TransientRetries[retry], clock, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping mid-chunk: hand the chunk back uncounted, so the redelivered command takes it at once.
            await lifecycle.ReleaseAsync(chunk, lease.Token, error: null);
            throw;
        }
        catch (Exception ex)
        {
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            if (chunk.Attempts >= options.Value.MaxAttempts)
            {
                logger.LogError(ex, "Chunk {JobId}/{Chunk} failed on its last attempt ({Attempts})", chunk.JobId, chunk.ChunkIndex, chunk.Attempts);
                await lifecycle.FailAsync(chunk, reason, CancellationToken.None);
                return;
            }
            logger.LogWarning(ex, "Chunk {JobId}/{Chunk} failed on attempt {Attempts}; it will be sent again in {Delay}",
                chunk.JobId, chunk.ChunkIndex, chunk.Attempts, JobLifecycle.RetryDelay(chunk.Attempts, options.Value));
            await lifecycle.ReleaseAsync(chunk, lease.Token, reason);
        }
    }

    private async Task ScoreAndStoreAsync(JobChunk chunk, Guid token, string? pinned, long started, CancellationToken cancellationToken)
    {
        // The job's own version, whatever has been promoted since it was submitted; the registry loads it once per process.
        var model = pinned is null ? currentModel.Model
            : await registry.FindAsync(pinned, cancellationToken)
                ?? throw new InvalidDataException($"The job is pinned to model {pinned}, which is not in the model registry.");
        if (await lifecycle.ReadInputsAsync(chunk, cancellationToken) is not { } stored)
        {
            logger.LogDebug("Chunk {JobId}/{Chunk} was removed with its job while leased; nothing to score", chunk.JobId, chunk.ChunkIndex);
            return;
        }

        var features = ArrayPool<float>.Shared.Rent(chunk.RowCount * FlightSchema.FeatureCount);
        var predictions = ArrayPool<Prediction>.Shared.Rent(chunk.RowCount);
        try
        {
            var rowCount = FeatureBytes.Decode(stored, features.AsSpan(0, chunk.RowCount * FlightSchema.FeatureCount));
            if (rowCount != chunk.RowCount)
                throw new InvalidDataException($"Chunk {chunk.ChunkIndex} should have {chunk.RowCount} stored rows but has {rowCount}.");
            // Invalid rows skipped at intake hold their places: score the valid ones, moved together, and put each
            // result back at its row. (Rare: only with onInvalidRow=skip; otherwise every row is valid and nothing moves.)
            var places = chunk.InvalidRows == 0 ? null : Compact(features, chunk.RowCount);
            var valid = places?.Length ?? chunk.RowCount;
            // One model for the chunk: the version stored with its results is the one that scored them.
            var results = Score(model, features, predictions, places, chunk.RowCount);
            predictionMetrics.Record(predictions.AsSpan(0, valid), features.AsSpan(0, valid * FlightSchema.FeatureCount), "job");
            // The challenger scores the same rows in the shadow: stored beside, never answered (GET /v1/models/{v}/comparison).
            var shadow = currentModel.Challenger is { } challenger && challenger.Version != model.Version
                ? new JobChunkShadowResult { JobId = chunk.JobId, ChunkIndex = chunk.ChunkIndex, ModelVersion = challenger.Version,
                    Results = Score(challenger, features, predictions, places, chunk.RowCount) }
                : null;

            await lifecycle.CompleteAsync(chunk, token, model.Version, results, Stopwatch.GetElapsedTime(started), shadow, cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
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
