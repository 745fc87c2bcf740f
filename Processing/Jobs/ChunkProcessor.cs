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
    ChunkScorer scorer,
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
        var model = await scorer.ModelAsync(pinned, cancellationToken);
        if (await lifecycle.ReadInputsAsync(chunk, cancellationToken) is not { } stored)
        {
            logger.LogDebug("Chunk {JobId}/{Chunk} was removed with its job while leased; nothing to score", chunk.JobId, chunk.ChunkIndex);
            return;
        }

        var features = ArrayPool<float>.Shared.Rent(chunk.RowCount * FlightSchema.FeatureCount);
        try
        {
            var rowCount = FeatureBytes.Decode(stored, features.AsSpan(0, chunk.RowCount * FlightSchema.FeatureCount));
            if (rowCount != chunk.RowCount)
                throw new InvalidDataException($"Chunk {chunk.ChunkIndex} should have {chunk.RowCount} stored rows but has {rowCount}.");
            // One model for the chunk: the version stored with its results is the one that scored them.
            var scored = scorer.Score(model, features, chunk.RowCount, chunk.InvalidRows);
            await lifecycle.CompleteAsync(chunk, token, scored, Stopwatch.GetElapsedTime(started), cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
        }
    }
}
