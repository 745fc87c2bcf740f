using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Every state change of a job, its chunks and its callback, each one named method with a typed outcome; nothing else
/// writes these tables. Each change is a conditional update (the WHERE holds the state it leaves), so two processes
/// racing for one transition get one winner, and the loser learns it from the row count. Metrics are recorded here,
/// from the outcomes, after the commit that made them true, and so are the signals that wake long polls (<see cref="JobChanges"/>).
/// <code>
/// job:      (new) ──BeginIntake──▶ receiving ──Accept──▶ queued ──Lease──▶ running ──Complete (last chunk)──▶ succeeded
///           receiving ──AbandonIntake / RemoveAbandonedIntakes──▶ (removed)
///           queued|running ──Fail (a chunk out of attempts)──▶ failed
///           queued|running ──Cancel / Delete──▶ canceled
///           succeeded|failed|canceled ──Delete / Expire (retention)──▶ (removed)
/// chunk:    (new) ──StageChunk──▶ pending (held, or sent at once when express) ──ClaimHeld──▶ pending, sent
///           pending, sent ──Lease──▶ leased ──Complete──▶ done
///           leased ──Release──▶ pending (due again after the retry backoff, or at once when the host stops)
///           pending|leased(expired) ──ClaimStalled──▶ pending, sent again
///           pending|leased(expired) with no attempts left ──Fail──▶ failed
/// callback: (job becomes final) ──▶ pending ──ClaimCallbackAttempt──▶ attempt n claimed
///           claimed ──RecordCallbackAttempt──▶ delivered | pending (backoff) | failed
///           claimed ──ReturnCallbackClaim (host stopping)──▶ pending, due now
///           delivered|failed ──RedeliverCallback (the client asks)──▶ pending, due now
/// </code>
/// A chunk's lease token makes its completion exactly-once: only the holder of the current lease may mark it done,
/// and the results' primary key refuses a second copy.
/// </summary>
public sealed class JobLifecycle(
    JobsDbContext db,
    JobMetrics metrics,
    JobChanges changes,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobLifecycle> logger)
{
    /// <summary>The time, in whole microseconds as PostgreSQL stores it, so a job built in memory equals its stored row.</summary>
    private DateTime Now => clock.GetUtcNow().UtcDateTime is var now ? now.AddTicks(-(now.Ticks % 10)) : default;

    /// <summary>
    /// A transaction whose commit does not wait for the disk (PostgreSQL's <c>synchronous_commit = off</c>, for this
    /// transaction only; an ordinary one on SQLite): for writes that a later durable commit covers, since the log is
    /// flushed in order (a job's acceptance makes its staged chunks durable, a chunk's completion its lease), or whose
    /// loss in a database crash costs only a retry. A small job then waits for the disk twice, not six times.
    /// </summary>
    private async Task<Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction> BeginUnflushedTransactionAsync(CancellationToken cancellationToken)
    {
        var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", cancellationToken);
        return transaction;
    }

    // ─── intake ────────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// A new job as a submission starts it, in memory only: receiving, created now, with the configured chunk size.
    /// <see cref="BeginIntakeAsync"/> records it when its upload needs staging; <see cref="CompleteInlineAsync"/>
    /// records it final when the whole upload was one small chunk. <paramref name="modelVersion"/> pins it: every chunk
    /// is scored by that registered version.
    /// </summary>
    public Job NewJob(string owner, string? idempotencyKey, string? callbackUrl, string? name, JobPriority priority, string? modelVersion) => new()
    {
        Id = Guid.CreateVersion7(),
        Status = JobStatus.Receiving,
        CreatedAt = Now,
        ChunkSize = options.Value.ChunkSize,
        Owner = owner,
        IdempotencyKey = idempotencyKey,
        CallbackUrl = callbackUrl,
        Name = name,
        Priority = priority,
        ModelVersion = modelVersion,
    };

    /// <summary>
    /// Records <paramref name="job"/> (from <see cref="NewJob"/>) as <see cref="JobStatus.Receiving"/> (invisible to
    /// every reader) so its chunks can be staged one short write at a time. With an idempotency key already taken by
    /// this owner, returns that job instead (<see cref="IntakeStart.Existing"/>): the unique index decides between
    /// overlapping requests, at once.
    /// </summary>
    public async Task<IntakeStart> BeginIntakeAsync(Job job, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            // ON CONFLICT DO NOTHING (PostgreSQL and SQLite alike): an overlapping request that holds the key makes this
            // insert a no-op, not an error, so the race costs neither an exception nor an error in the log.
            var status = nameof(JobStatus.Receiving);
            // Unflushed (the acceptance's commit makes it durable), in one round trip: on PostgreSQL, statements sent
            // together run in one implicit transaction, which set_config(..., true) sets for.
            var unflushed = db.Database.IsNpgsql() ? "SELECT set_config('synchronous_commit', 'off', true);" : "";
            var inserted = await db.Database.ExecuteSqlAsync(FormattableStringFactory.Create(unflushed + """
                INSERT INTO jobs (id, status, total_rows, processed_rows, failed_rows, chunk_size, chunk_count, chunks_done, created_at, owner, idempotency_key, callback_url, callback_attempts, name, priority, model_version)
                VALUES ({0}, {1}, 0, 0, 0, {2}, 0, 0, {3}, {4}, {5}, {6}, 0, {7}, {8}, {9})
                ON CONFLICT DO NOTHING
                """, job.Id, status, job.ChunkSize, job.CreatedAt, job.Owner, job.IdempotencyKey, job.CallbackUrl, job.Name, (int)job.Priority, job.ModelVersion),
                cancellationToken);
            if (inserted == 1) return new IntakeStart(job, Existing: false);
            if (await FindByKeyAsync(job.Owner, job.IdempotencyKey!, cancellationToken) is { } existing)
                return new IntakeStart(existing, Existing: true);
            // The key's holder was an upload abandoned between our insert and our look-up: try again.
            if (attempt == 3) throw new InvalidOperationException($"Idempotency-Key '{job.IdempotencyKey}' is contended; could not record the job.");
        }
    }

    /// <summary>
    /// Stores one chunk of a receiving job: its encoded rows, its pending work item and the invalid rows it keeps as
    /// placeholders (<paramref name="invalidRows"/>, empty unless the client asked to skip them), and the outcomes its
    /// upload gave (<paramref name="outcomes"/>, an evaluation job's; null for none), in one short write.
    /// The chunk is held for its owner's dispatch window (<see cref="ClaimHeldAsync"/>), or marked sent when
    /// <paramref name="dispatched"/> (an express chunk, which the caller sends at once).
    /// False when the job is gone (removed as abandoned while this upload was still streaming).
    /// </summary>
    public async Task<bool> StageChunkAsync(Job job, int chunkIndex, int firstRow, int rowCount, byte[] features, byte[]? passthrough,
        byte[]? outcomes, IReadOnlyList<JobRowError> invalidRows, bool dispatched, CancellationToken cancellationToken)
    {
        // An evaluation job's outcomes (its upload's delayed column) are ground truth from the start.
        if (outcomes is not null)
            db.ChunkOutcomes.Add(new JobChunkOutcome { JobId = job.Id, ChunkIndex = chunkIndex, Outcomes = outcomes, UpdatedAt = Now });
        db.AddRange(
            new JobInput { JobId = job.Id, ChunkIndex = chunkIndex, Features = features, Passthrough = passthrough },
            new JobChunk
            {
                JobId = job.Id, ChunkIndex = chunkIndex, FirstRow = firstRow, RowCount = rowCount, InvalidRows = invalidRows.Count,
                Status = ChunkStatus.Pending, DispatchedAt = dispatched ? Now : null,
            });
        db.RowErrors.AddRange(invalidRows);
        try
        {
            await using var transaction = await BeginUnflushedTransactionAsync(cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (DatabaseErrors.IsForeignKeyViolation(ex))
        {
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// Makes a received job visible and queued, in one short transaction, unless the backlog would pass
    /// <see cref="JobOptions.MaxQueuedRows"/> (<see cref="AcceptResult.Busy"/>) or the job is gone (removed as
    /// abandoned: <see cref="AcceptResult.Gone"/>). The caller sends the chunks after an accept, and removes the job
    /// after a refusal.
    /// </summary>
    /// <param name="invalidRows">Rows skipped as invalid, already staged as row errors: they count as failed from the start.</param>
    public async Task<AcceptOutcome> AcceptAsync(Job job, int totalRows, int invalidRows, int chunkCount, string requestHash, string? passthroughColumns,
        CancellationToken cancellationToken)
    {
        var now = Now;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var backlog = await BacklogAsync(cancellationToken);
        if (backlog + totalRows - invalidRows > options.Value.MaxQueuedRows)
            return new AcceptOutcome(AcceptResult.Busy, backlog);
        var accepted = await db.Jobs.Where(j => j.Id == job.Id && j.Status == JobStatus.Receiving)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Queued)
                .SetProperty(j => j.TotalRows, totalRows)
                .SetProperty(j => j.FailedRows, j => j.FailedRows + invalidRows)
                .SetProperty(j => j.ChunkCount, chunkCount)
                .SetProperty(j => j.RequestHash, requestHash)
                .SetProperty(j => j.PassthroughColumns, passthroughColumns), cancellationToken);
        if (accepted == 0) return new AcceptOutcome(AcceptResult.Gone, backlog);
        // The stall sweep's clock starts for the chunks sent so far (held ones wait for the window, not for a worker).
        await db.Chunks.Where(c => c.JobId == job.Id && c.Status == ChunkStatus.Pending && c.DispatchedAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.DispatchedAt, now), cancellationToken);
        // Chunks were scored while the upload streamed: the job may be running already, failed, or done. (A chunk
        // completing meanwhile waits for this transaction's lock on the job, then finds it running and counts.)
        var failure = await db.Chunks.Where(c => c.JobId == job.Id && c.Status == ChunkStatus.Failed).Select(c => c.Error).FirstOrDefaultAsync(cancellationToken);
        if (failure is not null)
            await db.Jobs.Where(j => j.Id == job.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Error, failure).Finish(JobStatus.Failed, now), cancellationToken);
        else
        {
            await db.Jobs.Where(j => j.Id == job.Id && (j.ChunksDone > 0 || db.Chunks.Any(c => c.JobId == j.Id && c.Status == ChunkStatus.Leased)))
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.StartedAt, now), cancellationToken);
            await db.Jobs.Where(j => j.Id == job.Id && j.Status == JobStatus.Running && j.ChunksDone == j.ChunkCount)
                .ExecuteUpdateAsync(s => s.Finish(JobStatus.Succeeded, now), cancellationToken);
        }
        var current = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == job.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (current is { Status: JobStatus.Succeeded, FinishedAt: { } finishedAt }) metrics.JobSucceeded(current.CreatedAt, finishedAt, current.TotalRows);
        else if (current.Status == JobStatus.Failed) metrics.JobFinished(JobStatus.Failed);
        changes.Notify(job.Id);
        return new AcceptOutcome(AcceptResult.Accepted, backlog, current);
    }

    /// <summary>
    /// Removes a job whose upload failed or was refused, with its staged chunks, while it is still receiving; also the
    /// chunks staged after the sweep had already removed the job (a database that does not enforce foreign keys keeps them).
    /// </summary>
    public async Task AbandonIntakeAsync(Guid jobId)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId && j.Status != JobStatus.Receiving))
        {
            // Chunks first: deleting one waits for a worker completing it, so its results are committed, and removed, next.
            await db.Chunks.Where(c => c.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.ChunkResults.Where(r => r.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.ShadowResults.Where(r => r.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.ChunkOutcomes.Where(o => o.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.Inputs.Where(i => i.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.RowErrors.Where(e => e.JobId == jobId).ExecuteDeleteAsync(CancellationToken.None);
            await db.Jobs.Where(j => j.Id == jobId).ExecuteDeleteAsync(CancellationToken.None);
        }
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>
    /// Removes uploads that never finished (their process died mid-upload): jobs still receiving after
    /// <see cref="JobOptions.MaxUploadDuration"/> and a minute's grace.
    /// </summary>
    public Task<int> RemoveAbandonedIntakesAsync(CancellationToken cancellationToken)
    {
        var cutoff = Now - options.Value.MaxUploadDuration - TimeSpan.FromMinutes(1);
        return RemoveAsync(db.Jobs.Where(j => j.Status == JobStatus.Receiving && j.CreatedAt < cutoff), cancellationToken);
    }

    /// <summary>Rows accepted but not yet scored, across all active jobs.</summary>
    public Task<long> BacklogAsync(CancellationToken cancellationToken) =>
        db.Jobs.Where(j => Job.ActiveStatuses.Contains(j.Status))
            .SumAsync(j => (long)(j.TotalRows - j.ProcessedRows - j.FailedRows), cancellationToken);

    /// <summary>The owner's job that <paramref name="key"/> (an Idempotency-Key) names, in any status, or null.</summary>
    public Task<Job?> FindByKeyAsync(string owner, string key, CancellationToken cancellationToken) =>
        db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Owner == owner && j.IdempotencyKey == key, cancellationToken);

    // ─── a client's job ──────────────────────────────────────────────────────────────────────────────────

    /// <summary>Cancels the owner's queued or running job; running chunks finish, results already stored stay.</summary>
    public async Task<CancelOutcome> CancelAsync(Guid id, string owner, CancellationToken cancellationToken)
    {
        var canceled = await db.Jobs
            .Where(j => j.Id == id && j.Owner == owner && Job.ActiveStatuses.Contains(j.Status))
            .ExecuteUpdateAsync(s => s.Finish(JobStatus.Canceled, Now), cancellationToken);
        if (canceled == 1)
        {
            metrics.JobFinished(JobStatus.Canceled);
            changes.Notify(id);
        }
        var job = await db.Jobs.AsNoTracking().VisibleTo(owner).FirstOrDefaultAsync(j => j.Id == id, cancellationToken);
        return new CancelOutcome(job is null ? CancelResult.NotFound : canceled == 1 ? CancelResult.Canceled : CancelResult.AlreadyFinal, job);
    }

    /// <summary>
    /// Removes the owner's job with its inputs, results and callback record now; a queued or running job is canceled
    /// first (in its own commit, so a worker finishing a chunk meanwhile takes its locks in the same order as ours).
    /// A pending callback is dropped with the job. False when there is no such job.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid id, string owner, CancellationToken cancellationToken)
    {
        await CancelAsync(id, owner, cancellationToken);
        if (await RemoveAsync(db.Jobs.VisibleTo(owner).Where(j => j.Id == id), cancellationToken) == 0) return false;
        changes.Notify(id);
        return true;
    }

    /// <summary>Removes jobs that finished longer ago than <see cref="JobOptions.Retention"/>; returns how many.</summary>
    public Task<int> ExpireAsync(CancellationToken cancellationToken)
    {
        var cutoff = Now - options.Value.Retention;
        return RemoveAsync(db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff), cancellationToken);
    }

    /// <summary>Deletes the selected jobs and every row that hangs off them, in one transaction; returns the jobs removed.</summary>
    private async Task<int> RemoveAsync(IQueryable<Job> selected, CancellationToken cancellationToken)
    {
        var ids = selected.Select(j => j.Id);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Chunks before results: a worker may be completing a chunk of a job removed while receiving (AbandonIntake's order).
        await db.Chunks.Where(c => ids.Contains(c.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.ChunkResults.Where(r => ids.Contains(r.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.ChunkOutcomes.Where(o => ids.Contains(o.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.ShadowResults.Where(r => ids.Contains(r.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Inputs.Where(i => ids.Contains(i.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.CallbackAttempts.Where(a => ids.Contains(a.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.RowErrors.Where(e => ids.Contains(e.JobId)).ExecuteDeleteAsync(cancellationToken);
        var removed = await selected.ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    // ─── chunks ──────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Takes the chunk for this delivery if it is free (pending, or its lease expired), has attempts left and its job is
    /// active: one delivery is one attempt. A free chunk with no attempts left is failed here, with its job.
    /// </summary>
    public async Task<LeaseOutcome> LeaseAsync(ScoreChunk command, string workerId, CancellationToken cancellationToken)
    {
        var now = Now;
        var token = Guid.NewGuid();
        var maxAttempts = options.Value.MaxAttempts;
        int leased, started = 0;
        JobChunk? chunk;
        string? pinned;
        // Unflushed: a lease lost in a database crash only means the chunk is taken again; the completion's durable commit
        // makes the lease durable before anything depends on it.
        await using (var transaction = await BeginUnflushedTransactionAsync(cancellationToken))
        {
            leased = await db.Chunks
                .Where(c => c.JobId == command.JobId && c.ChunkIndex == command.ChunkIndex
                    && (c.Status == ChunkStatus.Pending || (c.Status == ChunkStatus.Leased && c.LeaseExpiresAt < now))
                    && c.Attempts < maxAttempts
                    && db.Jobs.Any(j => j.Id == c.JobId && Job.ScorableStatuses.Contains(j.Status)))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ChunkStatus.Leased)
                    .SetProperty(c => c.LeaseToken, token)
                    .SetProperty(c => c.WorkerId, workerId)
                    .SetProperty(c => c.LeaseExpiresAt, now + options.Value.LeaseDuration)
                    .SetProperty(c => c.Attempts, c => c.Attempts + 1), cancellationToken);
            var read = await db.Chunks.AsNoTracking()
                .Where(c => c.JobId == command.JobId && c.ChunkIndex == command.ChunkIndex)
                .Select(c => new { Chunk = c, Pinned = db.Jobs.Where(j => j.Id == c.JobId).Select(j => j.ModelVersion).FirstOrDefault() })
                .SingleOrDefaultAsync(cancellationToken);
            chunk = read?.Chunk;
            pinned = read?.Pinned;
            if (leased == 1 && chunk is not null)
                started = await db.Jobs.Where(j => j.Id == chunk.JobId && j.Status == JobStatus.Queued)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.StartedAt, now), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        if (chunk is null)
        {
            // Its job was deleted (or expired) with commands still queued: expected, and nothing to do.
            logger.LogDebug("Chunk {JobId}/{Chunk} does not exist (its job was removed); command dropped", command.JobId, command.ChunkIndex);
            metrics.ChunkOutcome("skipped");
            return new LeaseOutcome(LeaseResult.Missing, null, token);
        }
        if (leased == 1)
        {
            if (started == 1) changes.Notify(chunk.JobId);
            return new LeaseOutcome(LeaseResult.Leased, chunk, token, pinned);
        }

        var free = chunk.Status == ChunkStatus.Pending || (chunk.Status == ChunkStatus.Leased && chunk.LeaseExpiresAt < now);
        if (free && chunk.Attempts >= maxAttempts)
        {
            await FailAsync(chunk, chunk.Error, cancellationToken);
            return new LeaseOutcome(LeaseResult.Exhausted, chunk, token);
        }
        // Done, failed, held by a live worker, or its job is no longer active: a duplicate or a late command.
        logger.LogDebug("Chunk {JobId}/{Chunk} is {Status}; command skipped", chunk.JobId, chunk.ChunkIndex, chunk.Status);
        metrics.ChunkOutcome("skipped");
        return new LeaseOutcome(LeaseResult.Skipped, chunk, token);
    }

    /// <summary>
    /// The leased chunk's rows, as <see cref="FeatureBytes"/> encoded them at intake; null when they are gone, which
    /// happens only with the chunk itself (its job was deleted while the chunk was leased).
    /// </summary>
    public Task<byte[]?> ReadInputsAsync(JobChunk chunk, CancellationToken cancellationToken) =>
        db.Inputs.AsNoTracking()
            .Where(i => i.JobId == chunk.JobId && i.ChunkIndex == chunk.ChunkIndex)
            .Select(i => i.Features)
            .SingleOrDefaultAsync(cancellationToken);

    /// <summary>
    /// Marks the chunk done, stores its results (<see cref="ScoredChunk"/>: the model's, and the challenger's when it
    /// scored in the shadow) and advances its job, in one transaction,
    /// only while <paramref name="token"/> is still the chunk's lease and that lease has not run out; the job succeeds
    /// with its last chunk.
    /// </summary>
    public async Task<CompleteResult> CompleteAsync(JobChunk chunk, Guid token, ScoredChunk scored, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var now = Now;
        var modelVersion = scored.ModelVersion;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var ours = await db.Chunks
            // Only an unexpired lease: a worker paused past it (SIGSTOP, a long GC) writes nothing when it wakes, even when no
            // other worker took the chunk over (its job was canceled meanwhile, or the redelivery had not happened yet).
            .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.Status == ChunkStatus.Leased && c.LeaseToken == token
                && c.LeaseExpiresAt >= now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, ChunkStatus.Done)
                .SetProperty(c => c.LeaseToken, (Guid?)null)
                .SetProperty(c => c.FinishedAt, now)
                .SetProperty(c => c.ModelVersion, modelVersion)
                .SetProperty(c => c.Error, (string?)null), cancellationToken);
        if (ours == 0)
        {
            // Our lease ran out (another worker may have taken the chunk over), or the job was removed: nothing is written.
            logger.LogWarning("Chunk {JobId}/{Chunk} lease lost before completion; results discarded", chunk.JobId, chunk.ChunkIndex);
            metrics.ChunkOutcome("skipped");
            return CompleteResult.LeaseLost;
        }

        AddResults(chunk.JobId, chunk.ChunkIndex, scored);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }

        // Every SET reads the row as it was, so "ChunksDone + 1 == ChunkCount" means "this was the last chunk".
        await db.Jobs.Where(j => j.Id == chunk.JobId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.ProcessedRows, j => j.ProcessedRows + chunk.RowCount - chunk.InvalidRows)
                .SetProperty(j => j.ChunksDone, j => j.ChunksDone + 1)
                .SetProperty(j => j.ModelVersion, modelVersion)
                .Finish(JobStatus.Succeeded, now, when: j => j.Status == JobStatus.Running && j.ChunksDone + 1 == j.ChunkCount),
                cancellationToken);
        // Did this update make the job final? The transaction holds the job's row, so this reads what the update left:
        // only the last chunk brings ChunksDone to ChunkCount, and a job that ended otherwise is not succeeded.
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == chunk.JobId)
            .Select(j => new { j.Status, j.ChunksDone, j.ChunkCount, j.CreatedAt, j.FinishedAt, j.TotalRows })
            .SingleAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        metrics.ChunkDone(chunk.RowCount - chunk.InvalidRows, elapsed);
        changes.Notify(chunk.JobId);
        if (job is not { Status: JobStatus.Succeeded, FinishedAt: { } finishedAt } || job.ChunksDone != job.ChunkCount)
            return CompleteResult.Completed;
        metrics.JobSucceeded(job.CreatedAt, finishedAt, job.TotalRows);
        return CompleteResult.JobSucceeded;
    }

    /// <summary>Adds a chunk's results, and its shadow results when the challenger scored it, to the context.</summary>
    private void AddResults(Guid jobId, int chunkIndex, ScoredChunk scored)
    {
        db.ChunkResults.Add(new JobChunkResult { JobId = jobId, ChunkIndex = chunkIndex, Results = scored.Results });
        if (scored is { ShadowVersion: { } shadowVersion, ShadowResults: { } shadow })
            db.ShadowResults.Add(new JobChunkShadowResult { JobId = jobId, ChunkIndex = chunkIndex, ModelVersion = shadowVersion, Results = shadow });
    }

    /// <summary>
    /// Records a job that was scored whole as it was accepted (<see cref="JobOptions.InlineRows"/>): <paramref name="job"/>
    /// (from <see cref="NewJob"/>, never recorded) succeeded, with its one chunk done and its rows, results, invalid rows
    /// and outcomes, in one insert of each: the job is never visible before it has its results, and never queued, so it
    /// passes no worker, broker or backlog. Returns the job as stored, or (<see cref="IntakeStart.Existing"/>, nothing
    /// written) the job whose idempotency key it shares, which an overlapping request recorded first.
    /// </summary>
    public async Task<IntakeStart> CompleteInlineAsync(Job job, InlineChunk chunk, ScoredChunk scored, string requestHash, string? passthroughColumns,
        string scoredBy, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        var now = Now;
        var valid = chunk.Rows - chunk.InvalidRows.Count;
        // As the acceptance and the last chunk's completion would leave it.
        job.TotalRows = chunk.Rows;
        job.ProcessedRows = valid;
        job.FailedRows = chunk.InvalidRows.Count;
        job.ChunkCount = job.ChunksDone = 1;
        job.RequestHash = requestHash;
        job.PassthroughColumns = passthroughColumns;
        job.ModelVersion = scored.ModelVersion;
        job.StartedAt = now;
        job.Finish(JobStatus.Succeeded, now);
        for (var attempt = 1; ; attempt++)
        {
            db.Jobs.Add(job);
            if (chunk.Outcomes is not null)
                db.ChunkOutcomes.Add(new JobChunkOutcome { JobId = job.Id, ChunkIndex = 0, Outcomes = chunk.Outcomes, UpdatedAt = now });
            db.AddRange(
                new JobInput { JobId = job.Id, ChunkIndex = 0, Features = chunk.Features, Passthrough = chunk.Passthrough },
                new JobChunk
                {
                    JobId = job.Id, ChunkIndex = 0, FirstRow = 1, RowCount = chunk.Rows, InvalidRows = chunk.InvalidRows.Count,
                    Status = ChunkStatus.Done, Attempts = 1, WorkerId = scoredBy, DispatchedAt = now, FinishedAt = now, ModelVersion = scored.ModelVersion,
                });
            db.RowErrors.AddRange(chunk.InvalidRows);
            AddResults(job.Id, 0, scored);
            try
            {
                // One SaveChanges: one round trip and one transaction of its own, no savepoints.
                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException ex) when (job.IdempotencyKey is not null && DatabaseErrors.IsUniqueViolation(ex))
            {
                // An overlapping request with the same key recorded its job first.
                if (await FindByKeyAsync(job.Owner, job.IdempotencyKey, cancellationToken) is { } existing)
                    return new IntakeStart(existing, Existing: true);
                // Its holder was an upload abandoned between our insert and our look-up: try again.
                if (attempt == 3) throw;
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }

        metrics.ChunkDone(valid, elapsed);
        metrics.JobSucceeded(job.CreatedAt, now, chunk.Rows);
        return new IntakeStart(job, Existing: false);
    }

    /// <summary>
    /// Gives a chunk back (pending, lease cleared) while <paramref name="token"/> still holds it. After a failed attempt
    /// (<paramref name="error"/> given) the stall sweep sends it again once <see cref="RetryDelay"/> has passed; when the
    /// host is stopping (no error) the attempt is not counted and the redelivered command may take it at once.
    /// Best effort: the lease expires anyway.
    /// </summary>
    public async Task ReleaseAsync(JobChunk chunk, Guid token, string? error)
    {
        var now = Now;
        // The sweep re-sends a pending chunk StallTimeout after DispatchedAt; set it so that falls after the backoff.
        var dispatchedAt = error is null ? now : now - options.Value.StallTimeout + RetryDelay(chunk.Attempts, options.Value);
        var uncount = error is null ? 1 : 0;
        try
        {
            await db.Chunks
                .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.Status == ChunkStatus.Leased && c.LeaseToken == token)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, ChunkStatus.Pending)
                    .SetProperty(c => c.LeaseToken, (Guid?)null)
                    .SetProperty(c => c.LeaseExpiresAt, (DateTime?)null)
                    .SetProperty(c => c.DispatchedAt, dispatchedAt)
                    .SetProperty(c => c.Attempts, c => c.Attempts - uncount)
                    .SetProperty(c => c.Error, c => error ?? c.Error));
            if (error is not null) metrics.ChunkOutcome("retried");
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not release chunk {JobId}/{Chunk}; its lease will expire", chunk.JobId, chunk.ChunkIndex);
        }
    }

    /// <summary>
    /// How long after failed attempt <paramref name="attempt"/> the chunk is sent again:
    /// <see cref="JobOptions.RetryBackoff"/> doubled per attempt, at most <see cref="JobOptions.StallTimeout"/>.
    /// </summary>
    public static TimeSpan RetryDelay(int attempt, JobOptions options) =>
        TimeSpan.FromTicks(Math.Min(options.StallTimeout.Ticks, options.RetryBackoff.Ticks * (1L << Math.Clamp(attempt - 1, 0, 20))));

    /// <summary>
    /// Poison work ends here: the chunk, out of attempts, and its job are marked failed with the reason
    /// ("Chunk 3 (rows 1501-2000) failed after 5 attempts: <paramref name="cause"/>"), and nothing retries it.
    /// </summary>
    public async Task FailAsync(JobChunk chunk, string? cause, CancellationToken cancellationToken)
    {
        var now = Now;
        var reason = $"Chunk {chunk.ChunkIndex} (rows {chunk.FirstRow}-{chunk.FirstRow + chunk.RowCount - 1}) failed after {chunk.Attempts} attempts: {cause}";
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
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.FailedRows, j => j.FailedRows + chunk.RowCount - chunk.InvalidRows), cancellationToken);
            // A separate update, so its row count says whether this chunk is the one that made the job final.
            jobFailed = await db.Jobs.Where(j => j.Id == chunk.JobId && Job.ActiveStatuses.Contains(j.Status))
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.Error, reason).Finish(JobStatus.Failed, now), cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (marked == 1)
        {
            metrics.ChunkOutcome("failed");
            changes.Notify(chunk.JobId);
        }
        if (jobFailed == 1) metrics.JobFinished(JobStatus.Failed);
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> chunks of active jobs whose command was lost (pending and not sent for
    /// <see cref="JobOptions.StallTimeout"/>, or leased by a worker whose lease ran out) for sending again. The claim moves
    /// <see cref="JobChunk.DispatchedAt"/> only if no other host moved it first, so one sweep of one host sends each.
    /// </summary>
    /// <returns>Each claimed chunk's command, and whether it goes to the express lane (a small job's one chunk: the first,
    /// smaller than a full chunk and at most <see cref="JobOptions.ExpressRows"/>), as it went the first time.</returns>
    public async Task<IReadOnlyList<(ScoreChunk Command, bool Express)>> ClaimStalledAsync(int limit, CancellationToken cancellationToken)
    {
        var now = Now;
        var stalledBefore = now - options.Value.StallTimeout;
        var expressRows = options.Value.ExpressRows;
        var stalled = await db.Chunks.AsNoTracking()
            .Where(c => (c.Status == ChunkStatus.Pending || (c.Status == ChunkStatus.Leased && c.LeaseExpiresAt < now))
                && c.DispatchedAt < stalledBefore
                && db.Jobs.Any(j => j.Id == c.JobId && Job.ScorableStatuses.Contains(j.Status)))
            .OrderBy(c => c.DispatchedAt)
            .Take(limit)
            .Select(c => new
            {
                c.JobId, c.ChunkIndex, c.DispatchedAt,
                Express = c.ChunkIndex == 0 && c.RowCount <= expressRows && db.Jobs.Any(j => j.Id == c.JobId && c.RowCount < j.ChunkSize),
            })
            .ToListAsync(cancellationToken);

        var claimed = new List<(ScoreChunk, bool)>();
        foreach (var chunk in stalled)
        {
            var won = await db.Chunks
                .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.DispatchedAt == chunk.DispatchedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.DispatchedAt, now), cancellationToken);
            if (won == 1) claimed.Add((new ScoreChunk(chunk.JobId, chunk.ChunkIndex), chunk.Express));
        }
        metrics.Redispatched(claimed.Count);
        return claimed;
    }

    // ─── the dispatch window ─────────────────────────────────────────────────────────────────────────────

    /// <summary>A held chunk: staged, never sent, waiting for a slot in its owner's window.</summary>
    private static readonly Expression<Func<JobChunk, bool>> Held = c => c.DispatchedAt == null && c.Status == ChunkStatus.Pending;

    /// <summary>
    /// Claims, for sending now, the held chunks that fit in <paramref name="owner"/>'s dispatch window
    /// (<see cref="JobOptions.DispatchWindow"/>): the window less the chunks it has out (sent and not finished, of jobs
    /// still scorable). Free slots go to the owner's jobs with held chunks by priority, then to the job with the fewest
    /// out (round-robin), then the oldest; within a job, in row order. Serialized per owner (an advisory lock on
    /// PostgreSQL, SQLite's write lock), so two processes never fill the same slots; a claimed chunk whose command is then
    /// lost is sent by the stall sweep, as any other.
    /// </summary>
    public async Task<IReadOnlyList<ScoreChunk>> ClaimHeldAsync(string owner, CancellationToken cancellationToken)
    {
        var now = Now;
        var claimed = new List<ScoreChunk>();
        // Unflushed: a claim lost in a database crash holds its chunks again, to be claimed (and sent) again.
        await using var transaction = await BeginUnflushedTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtext({"dispatch-window:" + owner}))", cancellationToken);
        var jobs = await db.Jobs.AsNoTracking()
            .Where(j => j.Owner == owner && Job.ScorableStatuses.Contains(j.Status))
            .Select(j => new OwnerJob(j.Id, j.Priority, j.CreatedAt,
                db.Chunks.Count(c => c.JobId == j.Id && c.DispatchedAt != null && (c.Status == ChunkStatus.Pending || c.Status == ChunkStatus.Leased)),
                db.Chunks.Where(c => c.JobId == j.Id).Count(Held)))
            .ToListAsync(cancellationToken);
        var free = options.Value.DispatchWindow - jobs.Sum(j => j.Out);
        var take = new Dictionary<Guid, int>();
        for (; free > 0; free--)
        {
            var next = jobs.Where(j => j.Held > 0)
                .OrderByDescending(j => j.Priority).ThenBy(j => j.Out).ThenBy(j => j.CreatedAt).ThenBy(j => j.Id)
                .FirstOrDefault();
            if (next is null) break;
            next.Out++;
            next.Held--;
            take[next.Id] = take.GetValueOrDefault(next.Id) + 1;
        }
        foreach (var (jobId, count) in take)
        {
            var indexes = await db.Chunks.AsNoTracking()
                .Where(c => c.JobId == jobId).Where(Held)
                .OrderBy(c => c.ChunkIndex).Take(count).Select(c => c.ChunkIndex)
                .ToListAsync(cancellationToken);
            await db.Chunks.Where(c => c.JobId == jobId && c.DispatchedAt == null && indexes.Contains(c.ChunkIndex))
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.DispatchedAt, now), cancellationToken);
            claimed.AddRange(indexes.Select(i => new ScoreChunk(jobId, i)));
        }
        await transaction.CommitAsync(cancellationToken);
        return claimed;
    }

    /// <summary>
    /// <see cref="ClaimHeldAsync"/> for the owner of <paramref name="jobId"/>, after one of its chunks finished (or its
    /// job ended) and freed a slot; one query and nothing more when the owner has no chunk held.
    /// </summary>
    public async Task<IReadOnlyList<ScoreChunk>> ClaimHeldAfterAsync(Guid jobId, CancellationToken cancellationToken)
    {
        var owner = await db.Jobs.AsNoTracking()
            .Where(j => j.Owner == db.Jobs.Where(o => o.Id == jobId).Select(o => o.Owner).FirstOrDefault()
                && Job.ScorableStatuses.Contains(j.Status)
                && db.Chunks.Where(c => c.JobId == j.Id).Any(Held))
            .Select(j => j.Owner)
            .FirstOrDefaultAsync(cancellationToken);
        return owner is null ? [] : await ClaimHeldAsync(owner, cancellationToken);
    }

    /// <summary>
    /// <see cref="ClaimHeldAsync"/> for every owner with chunks held: the stall sweep's top-up, for slots freed where no
    /// completion claimed them (a job canceled, failed or deleted with chunks out; a worker that died after completing).
    /// </summary>
    public async Task<IReadOnlyList<ScoreChunk>> ClaimAllHeldAsync(CancellationToken cancellationToken)
    {
        var owners = await db.Jobs.AsNoTracking()
            .Where(j => Job.ScorableStatuses.Contains(j.Status) && db.Chunks.Where(c => c.JobId == j.Id).Any(Held))
            .Select(j => j.Owner).Distinct()
            .ToListAsync(cancellationToken);
        var claimed = new List<ScoreChunk>();
        foreach (var owner in owners) claimed.AddRange(await ClaimHeldAsync(owner, cancellationToken));
        return claimed;
    }

    /// <summary>One of an owner's scorable jobs as <see cref="ClaimHeldAsync"/> shares out slots: chunks out and held.</summary>
    private sealed record OwnerJob(Guid Id, JobPriority Priority, DateTime CreatedAt, int Out, int Held)
    {
        public int Out { get; set; } = Out;
        public int Held { get; set; } = Held;
    }

    // ─── callbacks ───────────────────────────────────────────────────────────────────────────────────────

    /// <summary>Pending callbacks that are due, oldest first: each job's id and the attempts claimed so far.</summary>
    public async Task<IReadOnlyList<(Guid JobId, int Attempts)>> DueCallbacksAsync(int limit, CancellationToken cancellationToken)
    {
        var now = Now;
        var due = await db.Jobs.AsNoTracking()
            .Where(j => j.CallbackState == CallbackState.Pending && j.CallbackNextAttemptAt <= now)
            .OrderBy(j => j.CallbackNextAttemptAt)
            .Take(limit)
            .Select(j => new { j.Id, j.CallbackAttempts })
            .ToListAsync(cancellationToken);
        return [.. due.Select(j => (j.Id, j.CallbackAttempts))];
    }

    /// <summary>
    /// Claims attempt <paramref name="seen"/> + 1 of the job's callback for <paramref name="claimFor"/> (past the POST's
    /// timeout: only a host that died holding it lets it run out). Returns the job and the model versions that scored it,
    /// or null when another host claimed that attempt first.
    /// </summary>
    public async Task<(Job Job, IReadOnlyList<string> ModelVersions)?> ClaimCallbackAttemptAsync(Guid jobId, int seen, TimeSpan claimFor, CancellationToken cancellationToken)
    {
        var now = Now;
        var claimed = await db.Jobs
            .Where(j => j.Id == jobId && j.CallbackState == CallbackState.Pending && j.CallbackAttempts == seen && j.CallbackNextAttemptAt <= now)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.CallbackAttempts, seen + 1)
                .SetProperty(j => j.CallbackNextAttemptAt, now + claimFor), cancellationToken);
        if (claimed == 0) return null;
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId, cancellationToken);
        var versions = await db.Chunks.AsNoTracking()
            .Where(c => c.JobId == jobId && c.ModelVersion != null)
            .Select(c => c.ModelVersion!)
            .Distinct()
            .OrderBy(v => v)
            .ToListAsync(cancellationToken);
        return (job, versions);
    }

    /// <summary>
    /// A client asks for its finished job's callback again (the receiver lost it, or was down past the last retry): a
    /// delivered or failed callback becomes pending and due now, for one more attempt.
    /// </summary>
    public async Task<RedeliverOutcome> RedeliverCallbackAsync(Guid id, string owner, CancellationToken cancellationToken)
    {
        var now = Now;
        var updated = await db.Jobs
            .Where(j => j.Id == id && j.Owner == owner && j.CallbackUrl != null
                && (j.CallbackState == CallbackState.Delivered || j.CallbackState == CallbackState.Failed))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CallbackState, CallbackState.Pending).SetProperty(j => j.CallbackNextAttemptAt, now), cancellationToken);
        var job = await db.Jobs.AsNoTracking().VisibleTo(owner).FirstOrDefaultAsync(j => j.Id == id, cancellationToken);
        var result = job switch
        {
            null => RedeliverResult.NotFound,
            _ when updated == 1 => RedeliverResult.Redelivering,
            { CallbackUrl: null } => RedeliverResult.NoCallback,
            _ => RedeliverResult.NotYet,
        };
        return new RedeliverOutcome(result, job);
    }

    /// <summary>The host stopped mid-POST: gives the attempt back, due now, for another host (receivers dedupe by event id).</summary>
    public Task ReturnCallbackClaimAsync(Guid jobId, int attempt) =>
        db.Jobs.Where(j => j.Id == jobId && j.CallbackState == CallbackState.Pending && j.CallbackAttempts == attempt)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CallbackAttempts, attempt - 1).SetProperty(j => j.CallbackNextAttemptAt, Now), CancellationToken.None);

    /// <summary>
    /// Records a made attempt and the callback's new state (<see cref="CallbackState.Pending"/> again with
    /// <paramref name="nextAttemptAt"/>, delivered or failed) in one transaction; the state changes only while the claim
    /// is still ours (a host that took over after it ran out decides instead).
    /// </summary>
    /// <returns>The attempt's outcome as the metric counts it: delivered, retried or failed.</returns>
    public async Task<string> RecordCallbackAttemptAsync(JobCallbackAttempt attempt, CallbackState state, DateTime? nextAttemptAt)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None))
        {
            db.CallbackAttempts.Add(attempt);
            await db.SaveChangesAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            await db.Jobs.Where(j => j.Id == attempt.JobId && j.CallbackState == CallbackState.Pending && j.CallbackAttempts == attempt.Attempt)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.CallbackState, state).SetProperty(j => j.CallbackNextAttemptAt, nextAttemptAt), CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
        }
        var outcome = state switch
        {
            CallbackState.Delivered => "delivered",
            CallbackState.Failed => "failed",
            _ => "retried",
        };
        metrics.CallbackDelivery(outcome);
        return outcome;
    }

    // ─── gauges ──────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>Visible jobs by state, and the age of the oldest active job (zero when none), for the state gauges.</summary>
    public async Task<(IReadOnlyDictionary<string, long> ByState, TimeSpan BacklogAge)> StateAsync(CancellationToken cancellationToken)
    {
        var counts = await db.Jobs.Where(j => j.Status != JobStatus.Receiving)
            .GroupBy(j => j.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(cancellationToken);
        var oldest = await db.Jobs.AsNoTracking()
            .Where(j => Job.ActiveStatuses.Contains(j.Status))
            .OrderBy(j => j.CreatedAt)
            .Select(j => (DateTime?)j.CreatedAt)
            .FirstOrDefaultAsync(cancellationToken);
        var byState = Enum.GetValues<JobStatus>().Where(s => s != JobStatus.Receiving).ToDictionary(
            s => s.ToString().ToLowerInvariant(),
            s => counts.FirstOrDefault(c => c.Key == s)?.Count ?? 0);
        return (byState, oldest is { } created ? TimeSpan.FromTicks(Math.Max(0, (Now - created).Ticks)) : TimeSpan.Zero);
    }
}

public enum RedeliverResult
{
    Redelivering,
    NotFound,

    /// <summary>The job was submitted without a Callback-Url.</summary>
    NoCallback,

    /// <summary>The job has not ended, or its callback is still being delivered.</summary>
    NotYet,
}

/// <summary>How a redelivery request went, and the job as it is after it (null when not found).</summary>
public sealed record RedeliverOutcome(RedeliverResult Result, Job? Job);

/// <summary>
/// A small job's one chunk as its upload gave it, for <see cref="JobLifecycle.CompleteInlineAsync"/>: <see cref="Rows"/>
/// rows from row 1 encoded (<see cref="FeatureBytes"/>), passed-through values, outcomes (an evaluation job's), and the
/// invalid rows skipped (their placeholders are among the rows).
/// </summary>
public sealed record InlineChunk(int Rows, byte[] Features, byte[]? Passthrough, byte[]? Outcomes, IReadOnlyList<JobRowError> InvalidRows);

/// <summary>
/// The job a submission works on: its own, as recorded (receiving, or succeeded when scored as it was accepted), or
/// (<see cref="Existing"/>) the one its idempotency key already names.
/// </summary>
public sealed record IntakeStart(Job Job, bool Existing);

public enum AcceptResult
{
    Accepted,
    Busy,
    Gone,
}

/// <summary>How <see cref="JobLifecycle.AcceptAsync"/> went, and the backlog (rows) it saw.</summary>
/// <param name="Result">Accepted, or why not.</param>
/// <param name="Backlog">Rows waiting to be scored when it was decided.</param>
/// <param name="Job">The accepted job as stored: queued, or running, failed or succeeded by chunks scored during its upload.</param>
public sealed record AcceptOutcome(AcceptResult Result, long Backlog, Job? Job = null);

public enum CancelResult
{
    Canceled,
    AlreadyFinal,
    NotFound,
}

/// <summary>How a cancel went, and the job as it is after it (null when not found).</summary>
public sealed record CancelOutcome(CancelResult Result, Job? Job);

public enum LeaseResult
{
    /// <summary>This delivery holds the chunk: score it.</summary>
    Leased,

    /// <summary>Done, failed, held by a live worker, or its job is not active: a duplicate or late command.</summary>
    Skipped,

    /// <summary>No such chunk (its job was removed).</summary>
    Missing,

    /// <summary>Free, but out of attempts: failed now, with its job.</summary>
    Exhausted,
}

/// <summary>A lease attempt: the chunk as read after it, and the token that proves the lease when <see cref="LeaseResult.Leased"/>.</summary>
/// <summary>A lease's result; <see cref="ModelVersion"/> is the version the chunk's job is pinned to (null for a job from before pinning: the champion scores it).</summary>
public sealed record LeaseOutcome(LeaseResult Result, JobChunk? Chunk, Guid Token, string? ModelVersion = null);

public enum CompleteResult
{
    Completed,

    /// <summary>Completed, and it was the job's last chunk: the job succeeded.</summary>
    JobSucceeded,

    /// <summary>The lease had passed to another worker (or the job was removed): nothing was written.</summary>
    LeaseLost,
}

/// <summary>The one way a job becomes final, used by every transition above that ends one.</summary>
internal static class JobFinish
{
    /// <summary>
    /// Sets the final <paramref name="status"/> and finish time and, for a job with a callback, queues its notification
    /// as pending and due now, in the same UPDATE (a durable outbox: a job never ends without its callback on record).
    /// With <paramref name="when"/>, only on rows for which it holds (every SET reads the row as it was, so one
    /// condition decides all columns).
    /// </summary>
    public static UpdateSettersBuilder<Job> Finish(this UpdateSettersBuilder<Job> setters, JobStatus status, DateTime now, Expression<Func<Job, bool>>? when = null)
    {
        if (!Job.IsFinal(status)) throw new ArgumentException($"{status} is not a final status.", nameof(status));
        return setters
            .SetProperty(j => j.Status, If(when, _ => status, j => j.Status))
            .SetProperty(j => j.FinishedAt, If(when, _ => (DateTime?)now, j => j.FinishedAt))
            .SetProperty(j => j.CallbackState, If(when, j => j.CallbackUrl != null ? CallbackState.Pending : j.CallbackState, j => j.CallbackState))
            .SetProperty(j => j.CallbackNextAttemptAt, If(when, j => j.CallbackUrl != null ? now : j.CallbackNextAttemptAt, j => j.CallbackNextAttemptAt));
    }

    /// <summary>The same, on a job not yet recorded (one scored whole as it was accepted), before it is inserted.</summary>
    public static void Finish(this Job job, JobStatus status, DateTime now)
    {
        if (!Job.IsFinal(status)) throw new ArgumentException($"{status} is not a final status.", nameof(status));
        job.Status = status;
        job.FinishedAt = now;
        if (job.CallbackUrl is not null) (job.CallbackState, job.CallbackNextAttemptAt) = (CallbackState.Pending, now);
    }

    /// <summary><c>j => when(j) ? then(j) : otherwise(j)</c>, or just <paramref name="then"/> without a condition.</summary>
    private static Expression<Func<Job, T>> If<T>(Expression<Func<Job, bool>>? when, Expression<Func<Job, T>> then, Expression<Func<Job, T>> otherwise)
    {
        if (when is null) return then;
        var job = when.Parameters[0];
        return Expression.Lambda<Func<Job, T>>(
            Expression.Condition(when.Body, Rebind(then, job), Rebind(otherwise, job)), job);
    }

    private static Expression Rebind<T>(Expression<Func<Job, T>> lambda, ParameterExpression job) =>
        new Rebinder(lambda.Parameters[0], job).Visit(lambda.Body);

    private sealed class Rebinder(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
