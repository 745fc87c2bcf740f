using System.ComponentModel;
using System.Security.Cryptography;
using System.Text;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Processing.Jobs;
using FlightDelay.Processing.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Jobs;

public static class JobEndpoints
{
    private const int DefaultPage = 1000;
    private const int MaxPage = 10_000;
    private const string IdempotencyKeyHeader = "Idempotency-Key";
    private const string CallbackUrlHeader = "Callback-Url";
    private const string ParquetMediaType = "application/vnd.apache.parquet";
    private const string PreferHeader = "Prefer";

    public static IEndpointRouteBuilder MapJobs(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/v1/jobs").WithTags("Jobs");
        jobs.MapPost("", Submit)
            .WithName("SubmitJob")
            .WithSummary("Submits a batch of flights as CSV, JSON ({\"flights\": [...]}) or JSON Lines; answers 202 with the job.")
            .WithDescription("""
                Optional headers. `Idempotency-Key`: a retry with the same key and body returns the original job
                (`Idempotent-Replayed: true`); another body with it is a 409, and so is a retry while the first request with the
                key is still uploading (with `Retry-After`). `Callback-Url`: an https URL on a host of the
                server's allow-list (`Callbacks:AllowedHosts`; plain http only for `Callbacks:HttpAllowedHosts`, no user
                information, at most 2000 characters) that receives a POST when the job succeeds, fails or is canceled, as
                Standard Webhooks has it: JSON `{type: "job.succeeded"|"job.failed"|"job.canceled", timestamp, data: {jobId,
                status, rows, failedReason, modelVersion, modelVersions, finishedAt, links}}` with `webhook-id` (the job id, the
                same on every attempt), `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
                "id.timestamp.body">`, one per signing key); deprecated: `X-FlightDelay-Signature` and the other
                `X-FlightDelay-*` headers. Anything but a 2xx answer is retried with backoff over one to two days (`410`
                stops, `Retry-After` is honoured); redirects are not followed. A URL that is not allowed is a 400.
                """)
            .Produces<JobWithResults>(StatusCodes.Status200OK)
            .DocumentsUploadFormats()
            .WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            // The body's limit: routing applies it to the server's request size limit, and request decompression to the
            // decompressed bytes as it reads them.
            .WithMetadata(new RequestSizeLimitAttribute(app.ServiceProvider.GetRequiredService<IOptions<JobOptions>>().Value.MaxUploadBytes))
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        jobs.MapGet("/{id:guid}/errors", Errors).WithName("GetJobRowErrors")
            .WithSummary("The invalid rows of a job submitted with onInvalidRow=skip, page by page (after a row number): row, where and what is wrong.")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        jobs.MapGet("", List).WithName("ListJobs").WithSummary("Recent jobs, newest first, optionally by status.");
        jobs.MapGet("/{id:guid}", Get).WithName("GetJob").WithSummary("A job's status and progress. Supports If-None-Match, and long polling with Prefer: wait=N.")
            .WithDescription("""
                With `Prefer: wait=N` (RFC 7240; N seconds, at most `Jobs:MaxWait`, 30 s by default) the answer is held until the
                job's status or progress changes from what the client has seen (its `If-None-Match` tag, else the state when the
                request arrived) or N seconds pass, and says `Preference-Applied: wait=N`. A finished job answers at once. Held
                requests cost no database query while they wait: a change, in any process, wakes them.
                """);
        jobs.MapGet("/{id:guid}/results", Results).WithName("GetJobResults").WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .WithSummary("Results page by page (after a row number), also while the job runs (a page then ends before the first row not yet scored); Accept: text/csv or application/x-ndjson streams them all.");
        jobs.MapGet("/{id:guid}/results.csv", ResultsCsv).WithName("GetJobResultsCsv")
            .Produces<string>(StatusCodes.Status200OK, "text/csv").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .WithSummary("All results as CSV, streamed (row, delayed, probability, model_version; with ?include=inputs also airline, flightType, month; then the upload's other columns).");
        jobs.MapGet("/{id:guid}/results.jsonl", ResultsJsonLines).WithName("GetJobResultsJsonLines")
            .Produces<string>(StatusCodes.Status200OK, "application/x-ndjson").ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .WithSummary("All results as JSON Lines (one {row, delayed, probability, modelVersion} per line; with ?include=inputs also airline, flightType, month; then the upload's other columns), streamed.");
        jobs.MapGet("/{id:guid}/results.parquet", ResultsParquet).WithName("GetJobResultsParquet")
            .Produces<byte[]>(StatusCodes.Status200OK, ParquetMediaType).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .WithRequestTimeout(Infrastructure.ApiServices.LongTransfer)
            .WithSummary("All results as an Apache Parquet file (row, delayed, probability, model_version; with ?include=inputs also airline, flightType, month; then the upload's other columns), one row group per chunk.");
        jobs.MapJobSummary();
        jobs.MapOutcomes();
        jobs.MapPost("/{id:guid}/cancel", Cancel).WithName("CancelJob")
            .WithSummary("Cancels a queued or running job; running chunks finish, results already written stay readable.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapPost("/{id:guid}/callback/redeliver", RedeliverCallback).WithName("RedeliverJobCallback")
            .WithSummary("Sends a finished job's callback once more (same event id and body), whether it was delivered or given up.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        jobs.MapDelete("/{id:guid}", Delete).WithName("DeleteJob")
            .WithSummary("Removes a job and its results now (a queued or running job is canceled first); 404 afterwards.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        // Ids that are not GUIDs get a problem, not an empty 404.
        jobs.MapMethods("/{id}/{**rest}", ["GET", "POST"], (string id) => Problems.NotFound($"'{id}' is not a job id.")).ExcludeFromDescription();
        jobs.MapMethods("/{id}", ["GET", "POST", "DELETE"], (string id) => Problems.NotFound($"'{id}' is not a job id.")).ExcludeFromDescription();
        return app;
    }

    internal static async Task<Results<Accepted<JobView>, Ok<JobWithResults>, ProblemHttpResult>> Submit(
        HttpRequest request,
        CurrentClient client,
        [FromHeader(Name = IdempotencyKeyHeader), Description("Makes a retried submission return the original job (at most 200 characters).")] string? idempotencyKey,
        [FromHeader(Name = CallbackUrlHeader), Description("An allowed https URL to POST a signed notification to when the job ends.")] string? callbackUrl,
        [FromQuery(Name = "onInvalidRow"), Description("refuse (default): one invalid row refuses the upload, nothing is stored. skip: valid rows are scored; invalid ones are counted in failedRows and listed by /v1/jobs/{id}/errors.")] string? onInvalidRow,
        [FromQuery(Name = "name"), Description("What to call the job (at most 200 characters): shown in lists, searched by ?q=, and the stem of its download files. Without it, the file name of a Content-Disposition header, if any.")] string? name,
        [FromHeader(Name = PreferHeader), Description("wait=N (RFC 7240): hold the answer up to N seconds (at most Jobs:MaxWait, 30 s by default) for the job to end; if it does, 200 with the job and its first page of results inline, else the usual 202. respond-async: never wait.")] string? prefer,
        [FromQuery(Name = "priority"), Description("low, normal (default) or high: the job's order among your own jobs when their chunks wait for your dispatch window (Jobs:DispatchWindow chunks out per API key; other keys' jobs are served round-robin beside yours, whatever their priority).")] string? priority,
        [FromQuery(Name = "model"), Description("A registered model version (m- and 12 hex digits, see GET /v1/models) to score every row with; without it, the champion at submission. Either way the job is pinned: a promotion while it runs does not change its model.")] string? model,
        JobIntake intake,
        JobQueries queries,
        JobChanges changes,
        ModelRegistry registry,
        IOptions<CallbackOptions> callbacks,
        IOptions<JobOptions> options,
        CancellationToken cancellationToken)
    {
        if (idempotencyKey?.Length > 200)
            return Problems.BadRequest("Idempotency-Key may be at most 200 characters.");
        if (request.Headers[CallbackUrlHeader].Count > 1)
            return Problems.BadRequest("Send at most one Callback-Url header.");
        var callback = callbackUrl ?? "";
        if (callback.Length > 0 && CallbackUrls.WhyRefused(callback, callbacks.Value) is { } refused)
            return Problems.BadRequest(refused, new Dictionary<string, object?> { ["header"] = CallbackUrlHeader });

        var skip = onInvalidRow?.ToLowerInvariant() switch
        {
            null or "refuse" => false,
            "skip" => true,
            _ => (bool?)null,
        };
        if (skip is null)
            return Problems.BadRequest($"onInvalidRow must be 'refuse' (the default) or 'skip', not '{onInvalidRow}'.");

        var jobPriority = priority?.ToLowerInvariant() switch
        {
            null or JobPriorities.Normal => JobPriority.Normal,
            JobPriorities.Low => JobPriority.Low,
            JobPriorities.High => JobPriority.High,
            _ => (JobPriority?)null,
        };
        if (jobPriority is null)
            return Problems.BadRequest($"priority must be 'low', 'normal' (the default) or 'high', not '{priority}'.");

        var (jobName, badName) = JobName(name, request.Headers.ContentDisposition);
        if (badName is not null)
            return Problems.BadRequest(badName);

        if (await ModelChoice.PinAsync(registry, model, cancellationToken) is not { } pinned)
            return await ModelChoice.UnknownAsync(registry, model!, cancellationToken);

        var outcome = await intake.SubmitAsync(request.BodyReader, request.ContentType, request.ContentLength,
            new IntakeRequest(client.Owner, string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey, callback.Length == 0 ? null : callback, skip.Value, jobName, jobPriority.Value,
                pinned.Version, ModelRequested: model is not null),
            cancellationToken);
        if (outcome.Refusal is { } refusal)
            return Refused(request.HttpContext.Response, refusal);
        if (outcome.Replayed) request.HttpContext.Response.Headers["Idempotent-Replayed"] = "true";
        var job = outcome.Job!;
        // Prefer: wait: small work answers synchronously, as the asynchronous request-reply pattern allows.
        if (Preferences.Wait(request, options.Value.MaxWait) is { } wait)
        {
            Preferences.Applied(request.HttpContext.Response, wait);
            // A small job scored as it was accepted is final already.
            if (!Job.IsFinal(job.Status))
                job = await changes.ReadUntilAsync(job.Id, wait, ct => queries.FindAsync(job.Id, client.Owner, ct),
                    found => found is null || Job.IsFinal(found.Status), cancellationToken) ?? job;
            if (Job.IsFinal(job.Status))
                return TypedResults.Ok(new JobWithResults(JobViews.Of(job), await FirstPageAsync(job, outcome.Scored, queries, cancellationToken)));
        }
        var view = JobViews.Of(job);
        return TypedResults.Accepted(view.Links.Self, view);
    }

    /// <summary>
    /// A job's results from row 1, one full page: what a finished submission answers inline. Read from
    /// <paramref name="scored"/> when the API scored the job whole as it accepted it (its results, as stored), else from
    /// the database.
    /// </summary>
    private static async Task<JobResultPage> FirstPageAsync(Job job, ScoredChunk? scored, JobQueries queries, CancellationToken cancellationToken)
    {
        if (scored is null) return ResultPage(job, 0, MaxPage, await queries.ResultsAsync(job, 0, MaxPage, cancellationToken));
        var items = new List<JobResultView>(Math.Min(MaxPage, job.TotalRows));
        JobQueries.AddScored(items, 1, scored.Results, scored.ModelVersion, MaxPage);
        return ResultPage(job, 0, MaxPage, items);
    }

    /// <summary>A page of results read after row <paramref name="from"/>, with the link to the next one while there are more rows or the job runs.</summary>
    private static JobResultPage ResultPage(Job job, int from, int take, List<JobResultView> items)
    {
        // A full page has a next one unless it ended at the job's last row; a running job's page always has one.
        var next = (items.Count == take && items[^1].Row < job.TotalRows) || (!Job.IsFinal(job.Status) && job.ProcessedRows < job.TotalRows)
            ? $"/v1/jobs/{job.Id}/results?after={(items.Count == 0 ? from : items[^1].Row)}&limit={take}"
            : null;
        return new JobResultPage(job.Id, JobViews.StatusName(job.Status), items, next);
    }

    /// <summary>
    /// A job's name: <c>?name=</c>, else the file name of a <c>Content-Disposition</c> request header (as <c>curl -T</c>
    /// style tools and the page send it; any folders dropped). Trimmed; at most 200 characters, no control characters.
    /// </summary>
    internal static (string? Name, string? Problem) JobName(string? name, Microsoft.Extensions.Primitives.StringValues contentDisposition)
    {
        if (name is null && Microsoft.Net.Http.Headers.ContentDispositionHeaderValue.TryParse(contentDisposition.ToString(), out var disposition))
        {
            var file = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : disposition.FileName.Value?.Trim('"');
            name = file?.Split('/', '\\')[^1];
        }
        name = name?.Trim();
        if (string.IsNullOrEmpty(name)) return (null, null);
        if (name.Length > 200) return (null, "name may be at most 200 characters.");
        if (name.Any(char.IsControl)) return (null, "name may not contain control characters (tabs, line ends).");
        return (name, null);
    }

    /// <summary>The HTTP answer to each reason the intake refuses a submission.</summary>
    private static ProblemHttpResult Refused(HttpResponse response, IntakeRefusal refusal)
    {
        switch (refusal.Error)
        {
            case IntakeError.Busy:
                response.Headers.RetryAfter = "30";
                return Problems.Status(StatusCodes.Status503ServiceUnavailable, "Too much work queued.", refusal.Detail);
            case IntakeError.KeyInProgress:
                response.Headers.RetryAfter = "5";
                return Problems.Status(StatusCodes.Status409Conflict, "A request with this Idempotency-Key is in progress.", refusal.Detail);
        }
        return refusal.Error switch
        {
            IntakeError.UnsupportedMediaType => Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.", refusal.Detail),
            IntakeError.TooLarge => Problems.Status(StatusCodes.Status413PayloadTooLarge, "The request body is too large.", refusal.Detail),
            IntakeError.Unreadable => Problems.Status(refusal.StatusCode ?? StatusCodes.Status400BadRequest, "The upload could not be read.", refusal.Detail),
            IntakeError.Invalid when refusal.Rows is { } rows => Problems.BadRequest(refusal.Detail, new Dictionary<string, object?> { ["rows"] = rows }),
            IntakeError.Invalid => Problems.BadRequest(refusal.Detail),
            IntakeError.KeyReused => Problems.Conflict(refusal.Detail),
            IntakeError.TooSlow => Problems.Status(StatusCodes.Status408RequestTimeout, "The upload took too long.", refusal.Detail),
            _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal.Error, null),
        };
    }

    internal static async Task<Results<Ok<JobView>, StatusCodeHttpResult, ProblemHttpResult>> Get(Guid id, HttpContext context, CurrentClient client, JobQueries queries,
        JobChanges changes, TimeProvider clock, IOptions<JobOptions> options,
        [FromHeader(Name = PreferHeader), Description("wait=N: hold the answer until the job changes, at most N seconds (see the description).")] string? prefer)
    {
        async Task<(Job? Job, ChunkActivity Activity, string ETag)> ReadAsync(CancellationToken cancellationToken)
        {
            if (await queries.FindAsync(id, client.Owner, cancellationToken) is not { } found) return (null, default!, "");
            var chunks = await queries.ChunkActivityAsync(found, clock.GetUtcNow().UtcDateTime, options.Value.StallTimeout, cancellationToken);
            return (found, chunks, ETag(found, chunks));
        }

        Job? job;
        ChunkActivity activity;
        string etag;
        if (Preferences.Wait(context.Request, options.Value.MaxWait) is not { } wait)
            (job, activity, etag) = await ReadAsync(context.RequestAborted);
        else
        {
            // Changed means: no longer what the client's If-None-Match names, or without one, no longer what the first
            // reading saw. A job final at that first reading answers at once, and says nothing of the wait.
            var hasTag = context.Request.Headers.IfNoneMatch.Count > 0;
            string? seen = null;
            (job, activity, etag) = await changes.ReadUntilAsync(id, wait, ReadAsync, now =>
            {
                if (now.Job is null || Job.IsFinal(now.Job.Status)) return true;
                if (seen is null)
                {
                    seen = now.ETag;
                    Preferences.Applied(context.Response, wait);
                }
                return hasTag ? !HttpConventions.IsNotModified(context.Request, now.ETag) : now.ETag != seen;
            }, context.RequestAborted);
        }
        if (job is null)
            return Problems.NotFound($"There is no job {id}.");
        context.Response.Headers.ETag = etag;
        if (!Job.IsFinal(job.Status))
            context.Response.Headers.RetryAfter = "2";
        if (HttpConventions.IsNotModified(context.Request, etag))
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        var attempts = job.CallbackUrl is null ? null : await queries.CallbackAttemptsAsync(id, context.RequestAborted);
        return TypedResults.Ok(JobViews.Of(job, attempts, activity));
    }

    /// <summary><c>GET /v1/jobs</c>'s query: <c>status</c> (a job status name), <c>offset</c> (default 0) and <c>limit</c> (1 to 100, default 20).</summary>
    internal sealed record JobListQuery(
        [property: FromQuery(Name = "status")] string? Status,
        [property: FromQuery(Name = "q"), Description("Only jobs whose name contains this text (any case).")] string? Search,
        [property: FromQuery(Name = "offset")] int? Offset,
        [property: FromQuery(Name = "limit")] int? Limit);

    internal static async Task<Results<Ok<JobList>, ProblemHttpResult>> List([AsParameters] JobListQuery query, CurrentClient client, JobQueries queries, CancellationToken cancellationToken)
    {
        var take = query.Limit ?? 20;
        var skip = query.Offset ?? 0;
        if (take is < 1 or > 100) return Problems.BadRequest("limit must be between 1 and 100.");
        if (skip < 0) return Problems.BadRequest("offset must not be negative.");
        JobStatus? wanted = null;
        if (query.Status is { } status)
        {
            if (!Enum.TryParse<JobStatus>(status, ignoreCase: true, out var parsed) || parsed == JobStatus.Receiving || int.TryParse(status, out _))
                return Problems.BadRequest($"Unknown status '{status}'; use one of {string.Join(", ", Enum.GetValues<JobStatus>().Where(s => s != JobStatus.Receiving).Select(JobViews.StatusName))}.");
            wanted = parsed;
        }

        var search = string.IsNullOrWhiteSpace(query.Search) ? null : query.Search.Trim();
        var page = await queries.ListAsync(client.Owner, wanted, search, skip, take + 1, cancellationToken);
        var next = page.Count > take
            ? $"/v1/jobs?offset={skip + take}&limit={take}{(query.Status is null ? "" : $"&status={Uri.EscapeDataString(query.Status)}")}{(search is null ? "" : $"&q={Uri.EscapeDataString(search)}")}"
            : null;
        return TypedResults.Ok(new JobList([.. page.Take(take).Select(j => JobViews.Of(j))], skip, take, next));
    }

    /// <summary><c>GET /v1/jobs/{id}/results</c>'s query: results after row <c>after</c> (default 0), at most <c>limit</c> (1 to 10,000, default 1,000).</summary>
    internal sealed record ResultPageQuery(
        [property: FromQuery(Name = "after")] int? After,
        [property: FromQuery(Name = "limit")] int? Limit);

    internal static async Task<Results<Ok<JobResultPage>, EmptyHttpResult, ProblemHttpResult>> Results(
        Guid id, [AsParameters] ResultPageQuery query, HttpContext context, CurrentClient client, JobQueries queries)
    {
        // Accept: text/csv or a JSON Lines type asks for the whole download instead of a page.
        var accept = context.Request.GetTypedHeaders().Accept;
        Func<Guid, HttpContext, CurrentClient, JobQueries, Task<Results<EmptyHttpResult, ProblemHttpResult>>>? download =
            accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase)) ? (i, c, o, q) => ResultsCsv(i, null, c, o, q)
            : accept.Any(a => UploadFormats.For(a.MediaType.ToString()) == UploadFormats.JsonLines) ? (i, c, o, q) => ResultsJsonLines(i, null, c, o, q)
            : accept.Any(a => UploadFormats.For(a.MediaType.ToString()) == UploadFormats.Parquet) ? (i, c, o, q) => ResultsParquet(i, null, c, o, q)
            : null;
        if (download is not null)
            return (await download(id, context, client, queries)).Result switch
            {
                ProblemHttpResult problem => problem,
                _ => TypedResults.Empty,
            };

        var take = query.Limit ?? DefaultPage;
        var from = query.After ?? 0;
        if (take is < 1 or > MaxPage) return Problems.BadRequest($"limit must be between 1 and {MaxPage}.");
        if (from < 0) return Problems.BadRequest("after must not be negative.");
        if (await queries.FindAsync(id, client.Owner, context.RequestAborted) is not { } job)
            return Problems.NotFound($"There is no job {id}.");

        var items = await queries.ResultsAsync(job, from, take, context.RequestAborted);
        if (!Job.IsFinal(job.Status)) context.Response.Headers.RetryAfter = "2";
        return TypedResults.Ok(ResultPage(job, from, take, items));
    }

    internal static async Task<Results<Ok<JobRowErrorPage>, ProblemHttpResult>> Errors(
        Guid id, [AsParameters] ResultPageQuery query, CurrentClient client, JobQueries queries, CancellationToken cancellationToken)
    {
        var take = query.Limit ?? DefaultPage;
        var from = query.After ?? 0;
        if (take is < 1 or > MaxPage) return Problems.BadRequest($"limit must be between 1 and {MaxPage}.");
        if (from < 0) return Problems.BadRequest("after must not be negative.");
        if (await queries.FindAsync(id, client.Owner, cancellationToken) is not { } job)
            return Problems.NotFound($"There is no job {id}.");

        // Invalid rows are all stored before the job is accepted, so a full page is the only sign of another.
        var items = await queries.RowErrorsAsync(job, from, take + 1, cancellationToken);
        var next = items.Count > take ? $"/v1/jobs/{id}/errors?after={items[take - 1].Row}&limit={take}" : null;
        return TypedResults.Ok(new JobRowErrorPage(id, [.. items.Take(take).Select(e => new JobRowErrorView(e.Row, e.Where, e.Message))], next));
    }

    /// <summary>Streams every result as CSV (<c>row,delayed,probability,model_version</c>, <c>?include=inputs</c>, passed-through columns) straight from the database.</summary>
    internal static Task<Results<EmptyHttpResult, ProblemHttpResult>> ResultsCsv(Guid id, [FromQuery(Name = "include"), Description(IncludeDescription)] string? include,
        HttpContext context, CurrentClient client, JobQueries queries) =>
        DownloadAsync(id, include, context, client, queries, "text/csv; charset=utf-8", "csv",
            (job, inputs, writer, cancellationToken) => queries.WriteCsvAsync(job, writer, inputs, cancellationToken));

    /// <summary>Streams every result as JSON Lines straight from the database.</summary>
    internal static Task<Results<EmptyHttpResult, ProblemHttpResult>> ResultsJsonLines(Guid id, [FromQuery(Name = "include"), Description(IncludeDescription)] string? include,
        HttpContext context, CurrentClient client, JobQueries queries) =>
        DownloadAsync(id, include, context, client, queries, "application/x-ndjson", "jsonl",
            (job, inputs, writer, cancellationToken) => queries.WriteJsonLinesAsync(job, writer, inputs, cancellationToken));

    /// <summary>Streams every result as a Parquet file.</summary>
    internal static Task<Results<EmptyHttpResult, ProblemHttpResult>> ResultsParquet(Guid id, [FromQuery(Name = "include"), Description(IncludeDescription)] string? include,
        HttpContext context, CurrentClient client, JobQueries queries) =>
        DownloadAsync(id, include, context, client, queries, ParquetMediaType, "parquet",
            (job, inputs, writer, cancellationToken) => queries.WriteParquetAsync(job, writer.AsStream(leaveOpen: true), inputs, cancellationToken));

    private const string IncludeDescription =
        "inputs: also the columns airline, flightType and month of the flight each row scored. (Columns of the upload other than the flight's always follow.)";

    /// <summary>A finished job's results as a file download in one format; 409 while the job runs.</summary>
    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> DownloadAsync(Guid id, string? include, HttpContext context, CurrentClient client,
        JobQueries queries, string contentType, string extension, Func<Job, bool, System.IO.Pipelines.PipeWriter, CancellationToken, Task> write)
    {
        if (include is not (null or "inputs"))
            return Problems.BadRequest($"include may only be 'inputs', not '{include}'.");
        if (await queries.FindAsync(id, client.Owner, context.RequestAborted) is not { } job)
            return Problems.NotFound($"There is no job {id}.");
        if (!Job.IsFinal(job.Status))
            return Problems.Conflict($"Job {id} is {JobViews.StatusName(job.Status)}; the download is available when it has finished. Page /v1/jobs/{id}/results meanwhile.");

        var response = context.Response;
        response.ContentType = contentType;
        // The job's name, when it has one, names the file: flights.csv's results are flights-results.csv.
        var file = new Microsoft.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
        file.SetHttpFileName(job.Name is { } name ? $"{Path.GetFileNameWithoutExtension(name)}-results.{extension}" : $"job-{id}-results.{extension}");
        response.Headers.ContentDisposition = file.ToString();
        response.Headers["X-Job-Status"] = JobViews.StatusName(job.Status);
        await write(job, include is not null, response.BodyWriter, context.RequestAborted);
        return TypedResults.Empty;
    }

    internal static async Task<Results<Ok<JobView>, ProblemHttpResult>> Cancel(Guid id, CurrentClient client, JobLifecycle lifecycle, JobQueries queries,
        ChunkDispatcher dispatcher, TimeProvider clock, IOptions<JobOptions> options, CancellationToken cancellationToken)
    {
        var outcome = await lifecycle.CancelAsync(id, client.Owner, cancellationToken);
        // Its chunks out no longer count against the owner's dispatch window: send the owner's other jobs' held ones.
        if (outcome.Result == CancelResult.Canceled) await dispatcher.SendHeldAsync(ct => lifecycle.ClaimHeldAsync(client.Owner, ct), cancellationToken);
        return outcome.Result switch
        {
            // With the chunks still in flight, so a client can say "canceling" until they settle.
            CancelResult.Canceled => TypedResults.Ok(JobViews.Of(outcome.Job!, activity:
                await queries.ChunkActivityAsync(outcome.Job!, clock.GetUtcNow().UtcDateTime, options.Value.StallTimeout, cancellationToken))),
            CancelResult.AlreadyFinal => Problems.Conflict($"Job {id} is already {JobViews.StatusName(outcome.Job!.Status)}."),
            _ => Problems.NotFound($"There is no job {id}."),
        };
    }

    internal static async Task<Results<Accepted<JobView>, ProblemHttpResult>> RedeliverCallback(Guid id, CurrentClient client, JobLifecycle lifecycle, CancellationToken cancellationToken)
    {
        var outcome = await lifecycle.RedeliverCallbackAsync(id, client.Owner, cancellationToken);
        return outcome.Result switch
        {
            RedeliverResult.Redelivering => TypedResults.Accepted($"/v1/jobs/{id}", JobViews.Of(outcome.Job!)),
            RedeliverResult.NoCallback => Problems.Conflict($"Job {id} was submitted without a Callback-Url."),
            RedeliverResult.NotYet => Problems.Conflict($"Job {id}'s callback is {(outcome.Job!.CallbackState is null ? "waiting for the job to end" : "still being delivered")}; redeliver once it is delivered or failed."),
            _ => Problems.NotFound($"There is no job {id}."),
        };
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, CurrentClient client, JobLifecycle lifecycle, ChunkDispatcher dispatcher,
        CancellationToken cancellationToken)
    {
        if (!await lifecycle.DeleteAsync(id, client.Owner, cancellationToken))
            return Problems.NotFound($"There is no job {id}.");
        await dispatcher.SendHeldAsync(ct => lifecycle.ClaimHeldAsync(client.Owner, ct), cancellationToken);
        return TypedResults.NoContent();
    }

    private static string ETag(Job job, ChunkActivity activity)
    {
        // The chunks' activity is part of what a poll sees: a retry scheduled or a canceled job's last chunk settling changes the tag.
        var state = $"{job.Status}|{job.ProcessedRows}|{job.FailedRows}|{job.ChunksDone}|{job.StartedAt?.Ticks}|{job.FinishedAt?.Ticks}|{job.Error}|{job.CallbackState}|{job.CallbackAttempts}" +
            $"|{activity.InFlight}|{activity.Waiting}|{activity.NextRetryAt?.Ticks}";
        return $"\"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)))[..16]}\"";
    }
}
