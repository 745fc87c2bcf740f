using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.Jobs;

/// <summary>What became of a submission.</summary>
internal sealed record IntakeOutcome(Job? Job, bool Replayed, ProblemHttpResult? Problem);

/// <summary>
/// Accepts a job: streams the upload through a parser and stores it chunk by chunk (one compact row per chunk)
/// inside one transaction, so a job is recorded whole or not at all; then sends its chunks. A send that fails
/// costs nothing: the chunks are pending in the database and the dispatcher sends them again.
/// At most one chunk of rows is in memory at a time.
/// </summary>
internal sealed class JobIntake(
    JobsDbContext db,
    ChunkDispatcher dispatcher,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobIntake> logger)
{
    private const int MaxUnitBytes = 1024 * 1024;

    /// <param name="callbackUrl">An allowed callback URL (the caller has checked it), or null.</param>
    public async Task<IntakeOutcome> SubmitAsync(HttpRequest request, string owner, string? idempotencyKey, string? callbackUrl, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (ParserFor(request.ContentType) is not { } parser)
            return Problem(Problems.UnsupportedMediaType(request.ContentType, "text/csv or application/json"));
        if (request.ContentLength > limits.MaxUploadBytes)
            return Problem(Problems.TooLarge(limits.MaxUploadBytes));
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = limits.MaxUploadBytes;

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(MediaType(request.ContentType) + "\n"));
        // Part of the request: the same key with another callback is a different submission. (Only when given, so
        // requests without one hash as before.)
        if (callbackUrl is not null) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"callback {callbackUrl}\n"));

        if (idempotencyKey is not null && await FindAsync(owner, idempotencyKey, cancellationToken) is { } existing)
        {
            // Same key again: the body decides whether this is a retry of that submission or a different one.
            if (await ReadAsync(request.BodyReader, null, null, existing, hash, limits.MaxUploadBytes, cancellationToken) is { } tooLarge)
                return Problem(tooLarge);
            return Replay(existing, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }

        var backlog = await BacklogAsync(cancellationToken);
        if (backlog >= limits.MaxQueuedRows)
            return Problem(Busy(request, backlog, limits.MaxQueuedRows));

        var now = clock.GetUtcNow().UtcDateTime;
        var job = new Job
        {
            Id = Guid.CreateVersion7(),
            Status = JobStatus.Queued,
            CreatedAt = now,
            ChunkSize = limits.ChunkSize,
            Owner = owner,
            IdempotencyKey = idempotencyKey,
            CallbackUrl = callbackUrl,
        };

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Jobs.Add(job);
        await db.SaveChangesAsync(cancellationToken);

        var sink = new RowSink(job.ChunkSize, limits.MaxRows);
        if (await ReadAsync(request.BodyReader, parser, sink, job, hash, limits.MaxUploadBytes, cancellationToken) is { } readProblem)
            return Problem(readProblem);
        if (sink.Errors.Count > 0)
            return Problem(Problems.BadRequest(
                $"The upload has invalid rows; nothing was stored. The first {sink.Errors.Count} problem(s) are under 'rows'.",
                new Dictionary<string, object?> { ["rows"] = sink.Errors }));
        if (sink.Rows == 0)
            return Problem(Problems.BadRequest("The upload has no rows."));
        if (backlog + sink.Rows > limits.MaxQueuedRows)
            return Problem(Busy(request, backlog, limits.MaxQueuedRows));

        job.TotalRows = sink.Rows;
        job.RequestHash = Convert.ToHexStringLower(hash.GetHashAndReset());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // Another request with the same key committed first.
            await transaction.RollbackAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            if (await FindAsync(owner, idempotencyKey, CancellationToken.None) is { } winner)
                return Replay(winner, job.RequestHash);
            throw;
        }

        await DispatchAsync(job);
        return new IntakeOutcome(job, Replayed: false, null);
    }

    private async Task DispatchAsync(Job job)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await dispatcher.SendAsync([.. Enumerable.Range(0, job.ChunkCount).Select(i => new ScoreChunk(job.Id, i))], timeout.Token);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId} is saved but its {Chunks} chunks could not be sent now; the dispatcher will send them", job.Id, job.ChunkCount);
        }
    }

    /// <summary>
    /// Pumps the body through the parser (when given) into the sink, storing each full batch, and through the hash.
    /// Returns a problem for a body over the limit or one the server could not read.
    /// </summary>
    private async Task<ProblemHttpResult?> ReadAsync(PipeReader body, IUploadParser? parser, RowSink? sink, Job job, IncrementalHash hash, long maxBytes, CancellationToken cancellationToken)
    {
        long total = 0;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await body.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException ex)
            {
                return Problems.Status(ex.StatusCode, "The upload could not be read.", ex.Message);
            }

            var buffer = read.Buffer;
            var consumed = parser is null ? buffer.End : parser.Parse(buffer, read.IsCompleted, sink!);
            foreach (var segment in buffer.Slice(0, consumed))
                hash.AppendData(segment.Span);
            total += buffer.Slice(0, consumed).Length;
            var done = read.IsCompleted && consumed.Equals(buffer.End);
            // A full sink leaves whole rows unread: mark only what was consumed as examined, so the next read returns at once.
            body.AdvanceTo(consumed, sink?.IsFull == true ? consumed : buffer.End);

            if (total > maxBytes || (!read.IsCompleted && buffer.Length > maxBytes))
                return Problems.TooLarge(maxBytes);
            if (sink is not null)
            {
                if (sink.ShouldStop) return null;
                if (sink.IsFull || (done && sink.Pending > 0)) await StoreChunkAsync(job, sink, cancellationToken);
                if (read.IsCompleted && !done && !sink.IsFull && consumed.Equals(buffer.Start))
                    return Problems.BadRequest("The upload ends in the middle of a row.");
            }
            if (done) return null;
        }
    }

    /// <summary>Stores the sink's rows as the job's next chunk: its encoded inputs and its pending work item.</summary>
    private async Task StoreChunkAsync(Job job, RowSink sink, CancellationToken cancellationToken)
    {
        // After the first bad row the submission is refused anyway: keep reading for more errors, store nothing.
        if (sink.Errors.Count == 0)
        {
            var input = new JobInput { JobId = job.Id, ChunkIndex = job.ChunkCount, Features = FeatureBytes.Encode(sink.Batch.Span) };
            var chunk = new JobChunk
            {
                JobId = job.Id,
                ChunkIndex = job.ChunkCount,
                FirstRow = sink.BatchFirstRow,
                RowCount = sink.Pending,
                Status = ChunkStatus.Pending,
                DispatchedAt = job.CreatedAt,
            };
            db.AddRange(input, chunk);
            job.ChunkCount++;
            await db.SaveChangesAsync(cancellationToken);
            db.Entry(input).State = EntityState.Detached;
            db.Entry(chunk).State = EntityState.Detached;
        }
        sink.Clear();
    }

    /// <summary>Rows accepted but not yet scored, across all active jobs.</summary>
    private Task<long> BacklogAsync(CancellationToken cancellationToken) =>
        db.Jobs.Where(j => Job.ActiveStatuses.Contains(j.Status))
            .SumAsync(j => (long)(j.TotalRows - j.ProcessedRows - j.FailedRows), cancellationToken);

    private static ProblemHttpResult Busy(HttpRequest request, long backlog, long max)
    {
        request.HttpContext.Response.Headers.RetryAfter = "30";
        return Problems.Status(StatusCodes.Status503ServiceUnavailable, "Too much work queued.",
            $"{backlog} rows are waiting to be scored and this job would take the backlog past the limit of {max}; submit again later.");
    }

    private Task<Job?> FindAsync(string owner, string key, CancellationToken cancellationToken) =>
        db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Owner == owner && j.IdempotencyKey == key, cancellationToken);

    private static IntakeOutcome Replay(Job existing, string requestHash) =>
        existing.RequestHash == requestHash
            ? new IntakeOutcome(existing, Replayed: true, null)
            : Problem(Problems.Conflict($"Idempotency-Key was already used for job {existing.Id} with a different body."));

    private static IntakeOutcome Problem(ProblemHttpResult problem) => new(null, false, problem);

    private static IUploadParser? ParserFor(string? contentType) => MediaType(contentType) switch
    {
        "text/csv" or "application/csv" => new CsvUploadParser(MaxUnitBytes),
        "application/json" => new JsonUploadParser(MaxUnitBytes),
        _ => null,
    };

    private static string MediaType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) ? media.MediaType.ToString().ToLowerInvariant() : "";
}
