using System.Buffers;
using System.Diagnostics;
using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Scores one chunk exactly once, however often its command arrives: lease it (a conditional update, so only
/// one worker holds it), read its rows, score them in one batch, then in one transaction mark it done (only
/// while still holding the lease), store its results (one blob) and advance the job.
/// </summary>
public sealed class ChunkProcessor(
    JobsDbContext db,
    CurrentModel currentModel,
    PredictionMetrics predictionMetrics,
    JobMetrics metrics,
    TimeProvider clock,
    WorkerIdentity worker,
    IOptions<JobOptions> options,
    ILogger<ChunkProcessor> logger)
{
    public async Task ProcessAsync(ScoreChunk command, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var token = Guid.NewGuid();
        var chunk = await LeaseAsync(command, token, cancellationToken);
        if (chunk is null) return;

        try
        {
            await ScoreAndStoreAsync(chunk, token, cancellationToken);
            metrics.ChunkDone(chunk.RowCount, Stopwatch.GetElapsedTime(started));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            db.ChangeTracker.Clear();
            var reason = $"{ex.GetType().Name}: {ex.Message}";
            if (chunk.Attempts >= options.Value.MaxAttempts)
            {
                logger.LogError(ex, "Chunk {JobId}/{Chunk} failed on its last attempt ({Attempts})", chunk.JobId, chunk.ChunkIndex, chunk.Attempts);
                await FailAsync(chunk, $"Chunk {chunk.ChunkIndex} (rows {chunk.FirstRow}-{chunk.FirstRow + chunk.RowCount - 1}) failed after {chunk.Attempts} attempts: {reason}", CancellationToken.None);
                return;
            }
            logger.LogWarning(ex, "Chunk {JobId}/{Chunk} failed on attempt {Attempts}; it will be retried", chunk.JobId, chunk.ChunkIndex, chunk.Attempts);
            metrics.ChunkOutcome("retried");
            await ReleaseAsync(chunk, token, reason);
            throw;
        }
        catch (OperationCanceledException)
        {
            // Shutting down mid-chunk: hand the chunk back so the redelivered command can take it at once.
            await ReleaseAsync(chunk, token, null);
            throw;
        }
    }

    /// <summary>Takes the chunk if it is free (pending, or its lease expired) and its job is still active; null if not ours to do.</summary>
    private async Task<JobChunk?> LeaseAsync(ScoreChunk command, Guid token, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var maxAttempts = options.Value.MaxAttempts;
        var leased = await db.Chunks
            .Where(c => c.JobId == command.JobId && c.ChunkIndex == command.ChunkIndex
                && (c.Status == ChunkStatus.Pending || (c.Status == ChunkStatus.Leased && c.LeaseExpiresAt < now))
                && c.Attempts < maxAttempts
                && db.Jobs.Any(j => j.Id == c.JobId && Job.ActiveStatuses.Contains(j.Status)))
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, ChunkStatus.Leased)
                .SetProperty(c => c.LeaseToken, token)
                .SetProperty(c => c.WorkerId, worker.Id)
                .SetProperty(c => c.LeaseExpiresAt, now + options.Value.LeaseDuration)
                .SetProperty(c => c.Attempts, c => c.Attempts + 1), cancellationToken);

        var chunk = await db.Chunks.AsNoTracking()
            .SingleOrDefaultAsync(c => c.JobId == command.JobId && c.ChunkIndex == command.ChunkIndex, cancellationToken);
        if (chunk is null)
        {
            logger.LogWarning("Chunk {JobId}/{Chunk} does not exist (expired or never created); command dropped", command.JobId, command.ChunkIndex);
            metrics.ChunkOutcome("skipped");
            return null;
        }
        if (leased == 1)
        {
            await db.Jobs.Where(j => j.Id == chunk.JobId && j.Status == JobStatus.Queued)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.StartedAt, now), cancellationToken);
            return chunk;
        }

        var free = chunk.Status == ChunkStatus.Pending || (chunk.Status == ChunkStatus.Leased && chunk.LeaseExpiresAt < now);
        if (free && chunk.Attempts >= maxAttempts)
        {
            await FailAsync(chunk, $"Chunk {chunk.ChunkIndex} (rows {chunk.FirstRow}-{chunk.FirstRow + chunk.RowCount - 1}) failed after {chunk.Attempts} attempts: {chunk.Error}", cancellationToken);
            return null;
        }
        // Done, failed, held by a live worker, or its job is no longer active: a duplicate or a late command.
        logger.LogDebug("Chunk {JobId}/{Chunk} is {Status}; command skipped", chunk.JobId, chunk.ChunkIndex, chunk.Status);
        metrics.ChunkOutcome("skipped");
        return null;
    }

    private async Task ScoreAndStoreAsync(JobChunk chunk, Guid token, CancellationToken cancellationToken)
    {
        var stored = await db.Inputs.AsNoTracking()
            .Where(i => i.JobId == chunk.JobId && i.ChunkIndex == chunk.ChunkIndex)
            .Select(i => i.Features)
            .SingleOrDefaultAsync(cancellationToken)
            ?? throw new InvalidDataException($"Chunk {chunk.ChunkIndex} has no stored rows.");

        var features = ArrayPool<float>.Shared.Rent(chunk.RowCount * FlightSchema.FeatureCount);
        var predictions = ArrayPool<Prediction>.Shared.Rent(chunk.RowCount);
        try
        {
            var rowCount = FeatureBytes.Decode(stored, features.AsSpan(0, chunk.RowCount * FlightSchema.FeatureCount));
            if (rowCount != chunk.RowCount)
                throw new InvalidDataException($"Chunk {chunk.ChunkIndex} should have {chunk.RowCount} stored rows but has {rowCount}.");
            // One model for the chunk: the version stored with its results is the one that scored them.
            var model = currentModel.Model;
            model.PredictBatch(features.AsMemory(0, chunk.RowCount * FlightSchema.FeatureCount), predictions.AsSpan(0, chunk.RowCount));
            var scored = predictions.AsSpan(0, chunk.RowCount);
            predictionMetrics.Record(scored, features.AsSpan(0, chunk.RowCount * FlightSchema.FeatureCount), "job");

            var results = new byte[chunk.RowCount * ResultBytes.RowBytes];
            for (var i = 0; i < scored.Length; i++)
                ResultBytes.Write(results, i, scored[i].Delayed, scored[i].Probability);

            await CompleteAsync(chunk, token, model.Version, results, cancellationToken);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
            ArrayPool<Prediction>.Shared.Return(predictions);
        }
    }

    private async Task CompleteAsync(JobChunk chunk, Guid token, string version, byte[] results, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        var ours = await db.Chunks
            .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.Status == ChunkStatus.Leased && c.LeaseToken == token)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, ChunkStatus.Done)
                .SetProperty(c => c.LeaseToken, (Guid?)null)
                .SetProperty(c => c.FinishedAt, now)
                .SetProperty(c => c.ModelVersion, version)
                .SetProperty(c => c.Error, (string?)null), cancellationToken);
        if (ours == 0)
        {
            // Our lease expired and another worker took the chunk over: its results are the ones that count.
            logger.LogWarning("Chunk {JobId}/{Chunk} lease lost before completion; results discarded", chunk.JobId, chunk.ChunkIndex);
            metrics.ChunkOutcome("skipped");
            return;
        }

        var stored = db.ChunkResults.Add(new JobChunkResult { JobId = chunk.JobId, ChunkIndex = chunk.ChunkIndex, Results = results });
        await db.SaveChangesAsync(cancellationToken);
        stored.State = EntityState.Detached;

        // Every SET reads the row as it was, so "ChunksDone + 1 == ChunkCount" means "this was the last chunk".
        await db.Jobs.Where(j => j.Id == chunk.JobId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ProcessedRows, j => j.ProcessedRows + chunk.RowCount)
                .SetProperty(j => j.ChunksDone, j => j.ChunksDone + 1)
                .SetProperty(j => j.ModelVersion, version)
                .Finish(JobStatus.Succeeded, now, when: j => j.Status == JobStatus.Running && j.ChunksDone + 1 == j.ChunkCount),
                cancellationToken);
        // Did this update make the job final? The transaction holds the job's row, so this reads what the update left:
        // only the last chunk brings ChunksDone to ChunkCount, and a job that ended otherwise is not succeeded.
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == chunk.JobId)
            .Select(j => new { j.Status, j.ChunksDone, j.ChunkCount, j.CreatedAt, j.FinishedAt, j.TotalRows })
            .SingleAsync(cancellationToken);

        await transaction.CommitAsync(cancellationToken);
        if (job is { Status: JobStatus.Succeeded, FinishedAt: { } finishedAt } && job.ChunksDone == job.ChunkCount)
            metrics.JobSucceeded(job.CreatedAt, finishedAt, job.TotalRows);
    }

    /// <summary>Gives the chunk back (pending, lease cleared) if we still hold it; best effort, the lease expires anyway.</summary>
    private async Task ReleaseAsync(JobChunk chunk, Guid token, string? error)
    {
        try
        {
            await db.Chunks
                .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.Status == ChunkStatus.Leased && c.LeaseToken == token)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ChunkStatus.Pending)
                    .SetProperty(c => c.LeaseToken, (Guid?)null)
                    .SetProperty(c => c.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(c => c.Error, c => error ?? c.Error));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not release chunk {JobId}/{Chunk}; its lease will expire", chunk.JobId, chunk.ChunkIndex);
        }
    }

    /// <summary>Poison work ends here: the chunk and its job are marked failed with the reason, and nothing retries it.</summary>
    private async Task FailAsync(JobChunk chunk, string reason, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        reason = reason.Length > 2000 ? reason[..2000] : reason;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var marked = await db.Chunks
            .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.Status != ChunkStatus.Done && c.Status != ChunkStatus.Failed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, ChunkStatus.Failed)
                .SetProperty(c => c.LeaseToken, (Guid?)null)
                .SetProperty(c => c.FinishedAt, now)
                .SetProperty(c => c.Error, reason), cancellationToken);
        var jobFailed = 0;
        if (marked == 1)
        {
            await db.Jobs.Where(j => j.Id == chunk.JobId)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.FailedRows, j => j.FailedRows + chunk.RowCount), cancellationToken);
            // A separate update, so its row count says whether this chunk is the one that made the job final.
            jobFailed = await db.Jobs.Where(j => j.Id == chunk.JobId && Job.ActiveStatuses.Contains(j.Status))
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Error, reason).Finish(JobStatus.Failed, now), cancellationToken);
            metrics.ChunkOutcome("failed");
        }
        await transaction.CommitAsync(cancellationToken);
        if (jobFailed == 1) metrics.JobFinished(JobStatus.Failed);
    }
}
