using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using FlightDelay.Scoring;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// A submission as the intake takes it: who sends it, its optional idempotency key and callback URL (already checked),
/// whether invalid rows are skipped (stored as the job's row errors) instead of refusing the upload, and its name.
/// <c>ModelVersion</c> pins the job to a registered model version; <c>ModelRequested</c> says the client named it
/// (part of the request, as a retry sees it) rather than taking the champion of the moment.
/// </summary>
internal sealed record IntakeRequest(string Owner, string? IdempotencyKey, string? CallbackUrl, bool SkipInvalidRows = false, string? Name = null,
    JobPriority Priority = JobPriority.Normal, string? ModelVersion = null, bool ModelRequested = false);

/// <summary>Why a submission was refused; the endpoint maps each to its HTTP status.</summary>
internal enum IntakeError
{
    /// <summary>Not one of <see cref="UploadFormats"/> (415).</summary>
    UnsupportedMediaType,

    /// <summary>Over <see cref="JobOptions.MaxUploadBytes"/> (413).</summary>
    TooLarge,

    /// <summary>The server could not read the body: aborted, too slow, malformed framing (Kestrel's status).</summary>
    Unreadable,

    /// <summary>Rows that do not parse, a body that ends mid-row, or no rows at all (400).</summary>
    Invalid,

    /// <summary>Admission control: the backlog is full (503 with Retry-After).</summary>
    Busy,

    /// <summary>The idempotency key's first request is still streaming (409 with Retry-After).</summary>
    KeyInProgress,

    /// <summary>The idempotency key was used for a different submission (409).</summary>
    KeyReused,

    /// <summary>The upload outlasted <see cref="JobOptions.MaxUploadDuration"/> and was removed (408).</summary>
    TooSlow,
}

/// <summary>A refusal: which, in words for the client, with Kestrel's status for an unreadable body and the row errors for invalid rows.</summary>
internal sealed record IntakeRefusal(IntakeError Error, string Detail, int? StatusCode = null, IReadOnlyList<RowError>? Rows = null);

/// <summary>
/// What became of a submission: the job (new, or <see cref="Replayed"/> for a retried key), or a refusal.
/// <see cref="Scored"/> holds the results of a job scored whole as it was accepted (<see cref="JobOptions.InlineRows"/>), rows from 1.
/// </summary>
internal sealed record IntakeOutcome(Job? Job, bool Replayed, IntakeRefusal? Refusal, ScoredChunk? Scored = null)
{
    public static implicit operator IntakeOutcome(IntakeRefusal refusal) => new(null, false, refusal);
}

/// <summary>
/// Accepts a job while its upload streams, holding no transaction or lock while it reads: the job is recorded as
/// receiving (invisible; its idempotency key taken) when its first full chunk is read, each chunk is staged in its own short write as it fills and sent to
/// the workers as soon as its owner's dispatch window has room (<see cref="JobLifecycle.ClaimHeldAsync"/>; a small job's
/// one chunk at once, to the express lane), so scoring overlaps the upload, and one short transaction at the end makes the job visible:
/// queued, or running, failed or succeeded by what was scored meanwhile. A refused or broken upload removes the job, its
/// staged chunks and any results; one whose process died is removed by the retention sweep. A job of at most
/// <see cref="JobOptions.InlineRows"/> rows is not staged: it is scored here and recorded with its results at once
/// (<see cref="JobLifecycle.CompleteInlineAsync"/>). A send that fails costs
/// nothing: the chunks are pending in the database and the stall sweep sends them. At most two chunks of rows are in memory:
/// one being parsed, the one before it being stored.
/// </summary>
internal sealed class JobIntake(
    JobLifecycle lifecycle,
    ChunkDispatcher dispatcher,
    ChunkScorer scorer,
    WorkerIdentity worker,
    BacklogSample backlog,
    IOptions<JobOptions> options,
    ILogger<JobIntake> logger)
{
    /// <param name="body">The upload, read to its end (or to the first reason to refuse it).</param>
    /// <param name="contentType">Its Content-Type header, which picks the parser.</param>
    /// <param name="contentLength">Its declared length, when known: a body declared too large is refused unread.</param>
    public async Task<IntakeOutcome> SubmitAsync(PipeReader body, string? contentType, long? contentLength, IntakeRequest request, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (UploadFormats.For(contentType) is not { } format)
            return new IntakeRefusal(IntakeError.UnsupportedMediaType, UploadFormats.IsWorkbook(contentType)
                ? UploadEncoding.WorkbookAdvice
                : $"Content-Type '{contentType}' is not supported; send {UploadFormats.Accepted}.");
        var parser = format.CreateParser();
        // A parser that keeps the upload in a file (Parquet) removes it.
        await using var disposeParser = parser as IAsyncDisposable;
        if (contentLength > limits.MaxUploadBytes)
            return TooLarge(limits.MaxUploadBytes);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(MediaType(contentType) + "\n"));
        // Part of the request: the same key with another callback is a different submission. (Only when given, so
        // requests without one hash as before.)
        if (request.CallbackUrl is not null) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"callback {request.CallbackUrl}\n"));
        if (request.SkipInvalidRows) hash.AppendData("onInvalidRow skip\n"u8);
        if (request.Name is not null) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"name {request.Name}\n"));
        if (request.Priority != JobPriority.Normal) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"priority {request.Priority}\n"));
        if (request.ModelRequested) hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"model {request.ModelVersion}\n"));

        try
        {
            var (utf8, encodingRefusal) = format.IsText ? await UploadEncoding.ToUtf8Async(body, contentType, cancellationToken) : (body, null);
            if (encodingRefusal is not null)
                return new IntakeRefusal(IntakeError.UnsupportedMediaType, encodingRefusal);
            body = utf8!;
        }
        catch (BadHttpRequestException ex)
        {
            // Its first bytes could not be read: not what its Content-Encoding says, or the client went away.
            return new IntakeRefusal(IntakeError.Unreadable, ex.Message, ex.StatusCode);
        }

        // Recorded (receiving) when its first chunk is staged; a job scored whole here is recorded once, final.
        var job = lifecycle.NewJob(request.Owner, request.IdempotencyKey, request.CallbackUrl, request.Name, request.Priority, request.ModelVersion);
        var recorded = false;
        Job? existing = null; // the job the idempotency key already names, found when recording this one
        var accepted = false;
        // The key comes before what the body holds or a full backlog: a retry of a submission already accepted replays
        // its job, another body under the key is refused as such (the answers a key gave when it was taken first).
        async Task<IntakeOutcome> RefuseAsync(IntakeRefusal refusal) =>
            !recorded && request.IdempotencyKey is { } key && await lifecycle.FindByKeyAsync(request.Owner, key, cancellationToken) is { } holder
                ? await ReplayAsync(holder, body, hash, limits.MaxUploadBytes, cancellationToken)
                : refusal;

        if (await backlog.ReadAsync(lifecycle.BacklogAsync, cancellationToken) is var queued && queued >= limits.MaxQueuedRows)
            return await RefuseAsync(Busy(queued));
        // The chunk being stored and sent while the next one is parsed: one at a time (so the database context is never
        // used twice at once, and at most two chunks of rows are held), and the upload never stalls for it.
        var storing = Task.CompletedTask;
        try
        {
            var sink = new RowSink(job.ChunkSize, limits.MaxRows, request.SkipInvalidRows, limits.MaxInvalidRows);
            var chunks = 0;
            var gone = false;
            var unsent = new List<ScoreChunk>();
            // A first chunk that is not full is the whole job: one of at most InlineRows rows is held here and scored as
            // the job is accepted; small ones take the express lane, past big jobs' chunks and outside the dispatch window.
            // Others are held in the database, and sent as the owner's window has room.
            InlineChunk? whole = null;
            // Records the job as receiving, once; false when its idempotency key names another job (then in existing).
            async Task<bool> RecordAsync()
            {
                if (!recorded && await lifecycle.BeginIntakeAsync(job, cancellationToken) is { Existing: true } start) existing = start.Job;
                return recorded = existing is null;
            }
            async Task StoreAsync(int index, int firstRow, InlineChunk rows, bool express)
            {
                gone = !await lifecycle.StageChunkAsync(job, index, firstRow, rows.Rows, rows.Features, rows.Passthrough, rows.Outcomes, rows.InvalidRows,
                    express, cancellationToken);
                // Scored while the rest streams in; if the upload is refused later, its results go with it.
                if (!gone)
                {
                    List<ScoreChunk> send = express ? [new ScoreChunk(job.Id, index)] : [.. await lifecycle.ClaimHeldAsync(job.Owner, cancellationToken)];
                    if (!await SendAsync(job, send, express)) unsent.AddRange(send);
                }
            }
            // Takes the sink's batch; false to stop reading rows (the key names another job: the rest is only hashed).
            async ValueTask<bool> Stage()
            {
                await storing;
                // Once refused, keep reading for more errors to report, and store nothing.
                if (!sink.Refused && !gone)
                {
                    var index = chunks++;
                    var rows = new InlineChunk(sink.Pending, FeatureBytes.Encode(sink.Batch.Span), sink.PassthroughBatch, sink.LabelBatch,
                        [.. sink.Errors.Select(e => new JobRowError { JobId = job.Id, Row = e.Row, Where = e.Where, Message = e.Message })]);
                    var first = index == 0 && !sink.IsFull;
                    if (first && sink.Pending <= limits.InlineRows) whole = rows;
                    else if (!await RecordAsync()) return false;
                    else
                    {
                        // A format that gives rows after the end of its body (Parquet) may follow a short first batch with more.
                        if (whole is not null)
                        {
                            await StoreAsync(0, 1, whole, express: false);
                            whole = null;
                        }
                        if (!gone) storing = StoreAsync(index, sink.BatchFirstRow, rows, express: first && sink.Pending <= limits.ExpressRows);
                    }
                }
                sink.Clear();
                return true;
            }
            var readRefusal = await ReadAsync(body, parser, sink, Stage, hash, limits.MaxUploadBytes, cancellationToken);
            await storing;
            if (readRefusal is not null)
                return readRefusal.Error == IntakeError.Invalid ? await RefuseAsync(readRefusal) : readRefusal;
            if (existing is not null)
                return await ReplayAsync(existing, body, hash, limits.MaxUploadBytes, cancellationToken);
            if (gone)
                return TooSlow(limits);
            if (sink.Refused)
                return await RefuseAsync(new IntakeRefusal(IntakeError.Invalid,
                    $"The upload has invalid rows; nothing was stored. The first {sink.FirstErrors.Count} problem(s) are under 'rows'."
                    + (request.SkipInvalidRows ? "" : " Add ?onInvalidRow=skip to score the valid rows and list the invalid ones."), Rows: sink.FirstErrors));
            if (sink.Rows == 0)
                return await RefuseAsync(new IntakeRefusal(IntakeError.Invalid, "The upload has no rows."));
            if (sink.InvalidRows == sink.Rows)
                return await RefuseAsync(new IntakeRefusal(IntakeError.Invalid,
                    $"No row of the upload is valid; nothing was stored. The first {sink.FirstErrors.Count} problem(s) are under 'rows'.", Rows: sink.FirstErrors));

            var requestHash = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (whole is not null)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                if (await TryScoreAsync(job, whole, cancellationToken) is { } scored)
                {
                    var inline = await lifecycle.CompleteInlineAsync(job, whole, scored, requestHash, ResultColumns.Store(sink.PassthroughNames), worker.Id,
                        System.Diagnostics.Stopwatch.GetElapsedTime(started), cancellationToken);
                    return inline.Existing ? Replay(inline.Job, requestHash) : new IntakeOutcome(inline.Job, Replayed: false, null, scored);
                }
                // Scoring it here failed: the workers take it, with the attempts and retries a failing chunk has there.
                if (!await RecordAsync()) return Replay(existing!, requestHash);
                await StoreAsync(0, 1, whole, express: whole.Rows <= limits.ExpressRows);
                if (gone) return TooSlow(limits);
            }
            var outcome = await lifecycle.AcceptAsync(job, sink.Rows, sink.InvalidRows, chunks, requestHash,
                ResultColumns.Store(sink.PassthroughNames), cancellationToken);
            switch (outcome.Result)
            {
                case AcceptResult.Busy:
                    return Busy(outcome.Backlog);
                case AcceptResult.Gone:
                    return TooSlow(limits);
            }
            accepted = true;
            // Chunks whose command could not be sent while the upload streamed: now, or by the stall sweep.
            if (unsent.Count > 0) await SendAsync(job, unsent);
            return new IntakeOutcome(outcome.Job!, Replayed: false, null);
        }
        finally
        {
            // Refused, unreadable, or the client went away: nothing of it stays, results of chunks already scored included.
            if (recorded && !accepted)
            {
                // A store still in flight finishes first (its failure is the reason we are here, or moot now).
                await storing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await lifecycle.AbandonIntakeAsync(job.Id);
            }
        }
    }

    /// <summary>
    /// The key is taken by <paramref name="existing"/>. While its first request still streams, this one is refused at
    /// once (the IETF Idempotency-Key draft's 409). After, the body decides (the rest of it is read into
    /// <paramref name="hash"/>): the same submission replays its job, another is refused.
    /// </summary>
    private static async Task<IntakeOutcome> ReplayAsync(Job existing, PipeReader body, IncrementalHash hash, long maxBytes, CancellationToken cancellationToken)
    {
        if (existing.Status != JobStatus.Receiving && await ReadAsync(body, null, null, null, hash, maxBytes, cancellationToken) is { } refusal)
            return refusal;
        return Replay(existing, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>What a submission whose whole body hashed to <paramref name="requestHash"/> gets when its key names <paramref name="existing"/>.</summary>
    private static IntakeOutcome Replay(Job existing, string requestHash)
    {
        if (existing.Status == JobStatus.Receiving)
            return new IntakeRefusal(IntakeError.KeyInProgress,
                "A request with this Idempotency-Key is still uploading; retry when it has finished. (An upload whose server died is cleared after Jobs:MaxUploadDuration.)");
        return existing.RequestHash == requestHash
            ? new IntakeOutcome(existing, Replayed: true, null)
            : new IntakeRefusal(IntakeError.KeyReused, $"Idempotency-Key was already used for job {existing.Id} with a different body.");
    }

    /// <summary>
    /// Scores a whole job of at most <see cref="JobOptions.InlineRows"/> rows with its pinned model (and the challenger in
    /// the shadow); null, logged, when that fails.
    /// </summary>
    private async Task<ScoredChunk?> TryScoreAsync(Job job, InlineChunk whole, CancellationToken cancellationToken)
    {
        var features = ArrayPool<float>.Shared.Rent(whole.Rows * FlightSchema.FeatureCount);
        try
        {
            FeatureBytes.Decode(whole.Features, features.AsSpan(0, whole.Rows * FlightSchema.FeatureCount));
            return scorer.Score(await scorer.ModelAsync(job.ModelVersion, cancellationToken), features, whole.Rows, whole.InvalidRows.Count);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning(ex, "Job {JobId} could not be scored as it was accepted; its chunk goes to the workers", job.Id);
            return null;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
        }
    }

    /// <summary>Sends the chunks' commands; false (logged) when the broker could not take them: the stall sweep sends them later.</summary>
    private async Task<bool> SendAsync(Job job, List<ScoreChunk> chunks, bool express = false)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await dispatcher.SendAsync(chunks, timeout.Token, express);
            return true;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Job {JobId} is saved but its {Chunks} chunks could not be sent now; the stall sweep will send them", job.Id, chunks.Count);
            return false;
        }
    }

    /// <summary>
    /// Pumps the body through the parser (when given) into the sink, staging each full batch through <paramref name="stage"/>,
    /// and through the hash. Returns a refusal for a body over the limit, one that ends mid-row, or one the server could not read.
    /// </summary>
    private static async Task<IntakeRefusal?> ReadAsync(PipeReader body, IUploadParser? parser, RowSink? sink, Func<ValueTask<bool>>? stage,
        IncrementalHash hash, long maxBytes, CancellationToken cancellationToken)
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
                return new IntakeRefusal(IntakeError.Unreadable, ex.Message, ex.StatusCode);
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
                return TooLarge(maxBytes);
            if (sink is not null)
            {
                if (sink.ShouldStop) return null;
                if ((sink.IsFull || (done && sink.Pending > 0)) && !await stage!()) return null;
                if (read.IsCompleted && !done && !sink.IsFull && consumed.Equals(buffer.Start))
                    return new IntakeRefusal(IntakeError.Invalid, "The upload ends in the middle of a row.");
                // A format read once whole gives its rows now, a batch at a time.
                while (done && !sink.ShouldStop && await parser!.ReadHeldRowsAsync(sink, cancellationToken))
                    if (sink.IsFull && !await stage!()) return null;
                if (done && sink is { ShouldStop: false, Pending: > 0 }) await stage!();
            }
            if (done) return null;
        }
    }

    private static IntakeRefusal TooLarge(long maxBytes) =>
        new(IntakeError.TooLarge, $"The request body is larger than the limit of {maxBytes} bytes.");

    private static IntakeRefusal TooSlow(JobOptions limits) =>
        new(IntakeError.TooSlow, $"The upload took longer than {limits.MaxUploadDuration} (Jobs:MaxUploadDuration) and was discarded; submit it again.");

    private IntakeRefusal Busy(long backlog) =>
        new(IntakeError.Busy, $"{backlog} rows are waiting to be scored and this job would take the backlog past the limit of {options.Value.MaxQueuedRows}; submit again later.");

    private static string MediaType(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) ? media.MediaType.ToString().ToLowerInvariant() : "";
}

/// <summary>
/// The backlog (rows queued, <see cref="JobLifecycle.BacklogAsync"/>) as the intake's early check reads it before an
/// upload: read again at most every <see cref="MaxAge"/>, not once per request, because the check is only a courtesy
/// (refusing before the body is sent); acceptance checks the backlog exactly, in its own transaction.
/// </summary>
internal sealed class BacklogSample(TimeProvider clock)
{
    /// <summary>How old a reading may be.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private long _rows;
    private long _readAt = long.MinValue;

    /// <summary>The last reading if younger than <see cref="MaxAge"/>, else a new one from <paramref name="read"/>.</summary>
    public async Task<long> ReadAsync(Func<CancellationToken, Task<long>> read, CancellationToken cancellationToken)
    {
        var readAt = Interlocked.Read(ref _readAt);
        if (readAt != long.MinValue && clock.GetElapsedTime(readAt) < MaxAge) return Interlocked.Read(ref _rows);
        var now = clock.GetTimestamp();
        var rows = await read(cancellationToken);
        Interlocked.Exchange(ref _rows, rows);
        Interlocked.Exchange(ref _readAt, now);
        return rows;
    }
}
