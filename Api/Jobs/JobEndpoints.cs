using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Unicode;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Processing.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Jobs;

public static class JobEndpoints
{
    private const int DefaultPage = 1000;
    private const int MaxPage = 10_000;
    private const string IdempotencyKeyHeader = "Idempotency-Key";
    private const string CallbackUrlHeader = "Callback-Url";

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs");
        jobs.MapPost("", Submit)
            .WithName("SubmitJob")
            .WithSummary("Submits a batch of flights as CSV (text/csv) or JSON ({\"flights\": [...]}); answers 202 with the job.")
            .WithDescription("""
                Optional headers. `Idempotency-Key`: a retry with the same key and body returns the original job
                (`Idempotent-Replayed: true`); another body with it is a 409. `Callback-Url`: an https URL on a host of the
                server's allow-list (`Callbacks:AllowedHosts`; plain http only for `Callbacks:HttpAllowedHosts`, no user
                information, at most 2000 characters) that receives a signed POST when the job succeeds, fails or is canceled:
                JSON `{jobId, status, rows, failedReason, modelVersion, modelVersions, finishedAt, links}` with
                `X-FlightDelay-Signature: sha256=<hex HMAC-SHA256 of "<X-FlightDelay-Timestamp>.<body>">`,
                `X-FlightDelay-Event` (the job id, the same on every attempt) and `X-FlightDelay-Delivery` (one per attempt).
                Anything but a 2xx answer is retried with backoff; redirects are not followed. A URL that is not allowed is a 400.
                """)
            .DocumentsHeader(IdempotencyKeyHeader, "Makes a retried submission return the original job (at most 200 characters).")
            .DocumentsHeader(CallbackUrlHeader, "An allowed https URL to POST a signed notification to when the job ends.")
            .DocumentsBody<Predictions.PredictionRequest>()
            .WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("", List).WithName("ListJobs").WithSummary("Recent jobs, newest first, optionally by status.");
        jobs.MapGet("/{id:guid}", Get).WithName("GetJob").WithSummary("A job's status and progress. Supports If-None-Match.");
        jobs.MapGet("/{id:guid}/results", Results).WithName("GetJobResults").WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .WithSummary("Results page by page (after a row number), also while the job runs (a page then ends before the first row not yet scored); Accept: text/csv streams them all.");
        jobs.MapGet("/{id:guid}/results.csv", ResultsCsv).WithName("GetJobResultsCsv").WithRequestTimeout(Infrastructure.ApiServices.LongTransfer).WithSummary("All results as CSV, streamed.");
        jobs.MapJobSummary();
        jobs.MapPost("/{id:guid}/cancel", Cancel).WithName("CancelJob")
            .WithSummary("Cancels a queued or running job; running chunks finish, results already written stay readable.");
        // Ids that are not GUIDs get a problem, not an empty 404.
        jobs.MapMethods("/{id}/{**rest}", ["GET", "POST"], (string id) => Problems.NotFound($"'{id}' is not a job id.")).ExcludeFromDescription();
        jobs.MapMethods("/{id}", ["GET", "POST"], (string id) => Problems.NotFound($"'{id}' is not a job id.")).ExcludeFromDescription();
        return app;
    }

    internal static async Task<Results<Accepted<JobView>, ProblemHttpResult>> Submit(HttpContext context, JobIntake intake, IOptions<CallbackOptions> callbacks)
    {
        var key = context.Request.Headers[IdempotencyKeyHeader].ToString();
        if (key.Length > 200)
            return Problems.BadRequest("Idempotency-Key may be at most 200 characters.");
        if (context.Request.Headers[CallbackUrlHeader].Count > 1)
            return Problems.BadRequest("Send at most one Callback-Url header.");
        var callback = context.Request.Headers[CallbackUrlHeader].ToString();
        if (callback.Length > 0 && CallbackUrls.WhyRefused(callback, callbacks.Value) is { } refused)
            return Problems.BadRequest(refused, new Dictionary<string, object?> { ["header"] = CallbackUrlHeader });

        var outcome = await intake.SubmitAsync(context.Request, Owner(context), key.Length == 0 ? null : key,
            callback.Length == 0 ? null : callback, context.RequestAborted);
        if (outcome.Problem is not null) return outcome.Problem;
        if (outcome.Replayed) context.Response.Headers["Idempotent-Replayed"] = "true";
        var view = JobView.Of(outcome.Job!);
        return TypedResults.Accepted(view.Links.Self, view);
    }

    internal static async Task<Results<Ok<JobView>, StatusCodeHttpResult, ProblemHttpResult>> Get(Guid id, HttpContext context, JobsDbContext db)
    {
        if (await FindAsync(db, context, id) is not { } job)
            return Problems.NotFound($"There is no job {id}.");

        var etag = ETag(job);
        context.Response.Headers.ETag = etag;
        if (!Job.IsFinal(job.Status))
            context.Response.Headers.RetryAfter = "2";
        if (context.Request.Headers.IfNoneMatch.Any(v => v is not null && (v == etag || v == "*")))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        var attempts = job.CallbackUrl is null ? null : await db.CallbackAttempts.AsNoTracking()
            .Where(a => a.JobId == id).OrderBy(a => a.Attempt).ToListAsync(context.RequestAborted);
        return TypedResults.Ok(JobView.Of(job, attempts));
    }

    internal static async Task<Results<Ok<JobList>, ProblemHttpResult>> List(HttpContext context, JobsDbContext db, string? status, int? offset, int? limit)
    {
        var take = limit ?? 20;
        var skip = offset ?? 0;
        if (take is < 1 or > 100) return Problems.BadRequest("limit must be between 1 and 100.");
        if (skip < 0) return Problems.BadRequest("offset must not be negative.");

        var owner = Owner(context);
        var query = db.Jobs.AsNoTracking().Where(j => j.Owner == owner);
        if (status is not null)
        {
            if (!Enum.TryParse<JobStatus>(status, ignoreCase: true, out var wanted) || int.TryParse(status, out _))
                return Problems.BadRequest($"Unknown status '{status}'; use one of {string.Join(", ", Enum.GetValues<JobStatus>().Select(JobView.StatusName))}.");
            query = query.Where(j => j.Status == wanted);
        }

        var page = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Skip(skip).Take(take + 1).ToListAsync(context.RequestAborted);
        var next = page.Count > take ? $"/v1/jobs?offset={skip + take}&limit={take}{(status is null ? "" : $"&status={status}")}" : null;
        return TypedResults.Ok(new JobList([.. page.Take(take).Select(j => JobView.Of(j))], skip, take, next));
    }

    internal static async Task<Results<Ok<JobResultPage>, EmptyHttpResult, ProblemHttpResult>> Results(
        Guid id, HttpContext context, JobsDbContext db, int? after, int? limit)
    {
        if (context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase)))
            return (await ResultsCsv(id, context, db)).Result switch
            {
                ProblemHttpResult problem => problem,
                _ => TypedResults.Empty,
            };

        var take = limit ?? DefaultPage;
        var from = after ?? 0;
        if (take is < 1 or > MaxPage) return Problems.BadRequest($"limit must be between 1 and {MaxPage}.");
        if (from < 0) return Problems.BadRequest("after must not be negative.");
        if (await FindAsync(db, context, id) is not { } job)
            return Problems.NotFound($"There is no job {id}.");

        // A page spans at most take / ChunkSize + 2 chunks.
        var items = new List<JobResultView>(Math.Min(take, job.TotalRows));
        await foreach (var chunk in ScoredChunks(db, job, from, take, take / job.ChunkSize + 2).WithCancellation(context.RequestAborted))
        {
            // While the job runs, a page stops before a chunk still being scored, so following `next` misses no row.
            var nextRow = items.Count == 0 ? from + 1 : items[^1].Row + 1;
            if (chunk.FirstRow > nextRow && !Job.IsFinal(job.Status)) break;
            var rows = ResultBytes.RowCount(chunk.Results);
            for (var i = 0; i < rows && items.Count < take; i++)
            {
                var (delayed, probability) = ResultBytes.Read(chunk.Results, i);
                items.Add(new JobResultView(chunk.FirstRow + i, delayed, probability, chunk.ModelVersion));
            }
            if (items.Count == take) break;
        }
        var next = items.Count == take || (!Job.IsFinal(job.Status) && job.ProcessedRows < job.TotalRows)
            ? $"/v1/jobs/{id}/results?after={(items.Count == 0 ? from : items[^1].Row)}&limit={take}"
            : null;
        if (!Job.IsFinal(job.Status)) context.Response.Headers.RetryAfter = "2";
        return TypedResults.Ok(new JobResultPage(id, JobView.StatusName(job.Status), items, next));
    }

    /// <summary>Streams every result as CSV (<c>row,delayed,probability,model_version</c>) straight from the database.</summary>
    internal static async Task<Results<EmptyHttpResult, ProblemHttpResult>> ResultsCsv(Guid id, HttpContext context, JobsDbContext db)
    {
        if (await FindAsync(db, context, id) is not { } job)
            return Problems.NotFound($"There is no job {id}.");
        if (!Job.IsFinal(job.Status))
            return Problems.Conflict($"Job {id} is {JobView.StatusName(job.Status)}; the CSV is available when it has finished. Page /v1/jobs/{id}/results meanwhile.");

        var response = context.Response;
        response.ContentType = "text/csv; charset=utf-8";
        response.Headers.ContentDisposition = $"attachment; filename=\"job-{id}-results.csv\"";
        response.Headers["X-Job-Status"] = JobView.StatusName(job.Status);

        var writer = response.BodyWriter;
        Write(writer, "row,delayed,probability,model_version\n"u8);
        await foreach (var chunk in ScoredChunks(db, job, 0, job.ChunkSize, int.MaxValue).WithCancellation(context.RequestAborted))
        {
            var rows = ResultBytes.RowCount(chunk.Results);
            for (var i = 0; i < rows; i++)
            {
                var (delayed, probability) = ResultBytes.Read(chunk.Results, i);
                var span = writer.GetSpan(128);
                Utf8.TryWrite(span, CultureInfo.InvariantCulture,
                    $"{chunk.FirstRow + i},{(delayed ? 1 : 0)},{probability:R},{chunk.ModelVersion}\n", out var written);
                writer.Advance(written);
                if (i % 4096 == 4095) await writer.FlushAsync(context.RequestAborted);
            }
        }
        await writer.FlushAsync(context.RequestAborted);
        return TypedResults.Empty;
    }

    internal static async Task<Results<Ok<JobView>, ProblemHttpResult>> Cancel(Guid id, HttpContext context, JobsDbContext db, JobMetrics metrics, TimeProvider clock)
    {
        var owner = Owner(context);
        var now = clock.GetUtcNow().UtcDateTime;
        var canceled = await db.Jobs
            .Where(j => j.Id == id && j.Owner == owner && Job.ActiveStatuses.Contains(j.Status))
            .ExecuteUpdateAsync(s => s.Finish(JobStatus.Canceled, now), context.RequestAborted);
        if (canceled == 1) metrics.JobFinished(JobStatus.Canceled);

        if (await FindAsync(db, context, id) is not { } job)
            return Problems.NotFound($"There is no job {id}.");
        if (canceled == 0)
            return Problems.Conflict($"Job {id} is already {JobView.StatusName(job.Status)}.");
        return TypedResults.Ok(JobView.Of(job));
    }

    /// <summary>The caller's job with this id, or null: another owner's job is as unknown as a missing one.</summary>
    internal static Task<Job?> FindAsync(JobsDbContext db, HttpContext context, Guid id)
    {
        var owner = Owner(context);
        return db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == id && j.Owner == owner, context.RequestAborted);
    }

    /// <summary>Scored results of a chunk: rows <see cref="FirstRow"/>.., scored by <see cref="ModelVersion"/>.</summary>
    private sealed record ScoredChunk(int FirstRow, string? ModelVersion, byte[] Results);

    /// <summary>
    /// Up to <paramref name="chunks"/> of the job's scored chunks with rows after <paramref name="after"/>, in row order,
    /// one in memory at a time. Each is cut in SQL to its rows after <paramref name="after"/>, at most <paramref name="rows"/>
    /// of them, so a page reads the bytes it shows rather than whole chunks.
    /// </summary>
    private static IAsyncEnumerable<ScoredChunk> ScoredChunks(JobsDbContext db, Job job, int after, int rows, int chunks) =>
        (from result in db.ChunkResults.AsNoTracking()
         join chunk in db.Chunks.AsNoTracking() on new { result.JobId, result.ChunkIndex } equals new { chunk.JobId, chunk.ChunkIndex }
         where result.JobId == job.Id && result.ChunkIndex >= after / job.ChunkSize
         orderby result.ChunkIndex
         let skipped = Math.Max(0, after - chunk.FirstRow + 1)
         select new ScoredChunk(chunk.FirstRow + skipped, chunk.ModelVersion,
             JobsDbContext.Substr(result.Results, skipped * ResultBytes.RowBytes + 1, rows * ResultBytes.RowBytes)))
        .Take(chunks)
        .AsAsyncEnumerable();

    private static string ETag(Job job)
    {
        var state = $"{job.Status}|{job.ProcessedRows}|{job.FailedRows}|{job.ChunksDone}|{job.StartedAt?.Ticks}|{job.FinishedAt?.Ticks}|{job.Error}|{job.CallbackState}|{job.CallbackAttempts}";
        return $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)))[..16]}\"";
    }

    private static void Write(System.IO.Pipelines.PipeWriter writer, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(writer.GetSpan(bytes.Length));
        writer.Advance(bytes.Length);
    }

    /// <summary>Jobs belong to whoever submitted them: the authenticated caller's name, or everyone when there is no authentication.</summary>
    private static string Owner(HttpContext context) => context.User.Identity?.Name ?? "";
}
