using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.CompilerServices;
using FlightDelay.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace FlightDelay.Client;

/// <summary>
/// A typed client for every <c>/v1</c> route of the FlightDelay service. Thread-safe; create one per service (or get it
/// from <c>services.AddFlightDelayClient(...)</c>) and reuse it.
/// </summary>
/// <remarks>
/// Errors: an answer with an error status throws <see cref="FlightDelayApiException"/> (status, title, detail, field
/// errors); a service that cannot be reached throws <see cref="HttpRequestException"/> once the retries are spent;
/// cancellation throws <see cref="OperationCanceledException"/>. Requests that are safe to repeat are retried (see
/// <see cref="FlightDelayClientOptions.MaxRetries"/>).
/// </remarks>
public sealed class FlightDelayClient
{
    /// <summary>The header that carries the API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    private static readonly string Version =
        typeof(FlightDelayClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0.0";

    private readonly HttpClient _http;
    private readonly FlightDelayClientOptions _options;

    /// <summary>
    /// A client over an <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the service and whose
    /// handlers are the caller's (no retries are added: use <see cref="Create"/> or <c>AddFlightDelayClient</c> for them).
    /// </summary>
    public FlightDelayClient(HttpClient http, FlightDelayClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _options = options ?? new FlightDelayClientOptions { BaseAddress = http.BaseAddress ?? FlightDelayClientOptions.DefaultBaseAddress };
        if (http.BaseAddress is null) Configure(http, _options);
    }

    /// <summary>The constructor the HTTP client factory uses (<c>AddFlightDelayClient</c>).</summary>
    [ActivatorUtilitiesConstructor]
    public FlightDelayClient(HttpClient http, IOptions<FlightDelayClientOptions> options)
        : this(http, options?.Value)
    {
    }

    /// <summary>
    /// A client with its own connection pool and the retry policy, without dependency injection. Dispose nothing: it
    /// lives as long as the process (or keep one per service).
    /// </summary>
    public static FlightDelayClient Create(FlightDelayClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(ClientResilience.RetryOptions(options)).Build();
#pragma warning disable CA2000 // the handlers live as long as the HttpClient, which the client keeps
        var handler = new ResilienceHandler(pipeline) { InnerHandler = PrimaryHandler() };
        var http = new HttpClient(handler, disposeHandler: true);
#pragma warning restore CA2000
        Configure(http, options);
        return new FlightDelayClient(http, options);
    }

    /// <summary>The connection handler: pooled connections renewed every few minutes (DNS changes), compressed answers accepted.</summary>
    internal static SocketsHttpHandler PrimaryHandler() => new()
    {
        AutomaticDecompression = DecompressionMethods.All,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    };

    internal static void Configure(HttpClient http, FlightDelayClientOptions options)
    {
        http.BaseAddress = options.BaseAddress.AbsoluteUri.EndsWith('/') ? options.BaseAddress : new Uri(options.BaseAddress.AbsoluteUri + "/");
        // Uploads, long polls and downloads of millions of rows: callers bound them with their cancellation tokens.
        http.Timeout = Timeout.InfiniteTimeSpan;
        if (!string.IsNullOrEmpty(options.ApiKey))
            http.DefaultRequestHeaders.Add(ApiKeyHeader, options.ApiKey);
        http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent ?? $"FlightDelay.Client/{Version}");
    }

    /// <summary>The service's base address.</summary>
    public Uri BaseAddress => _http.BaseAddress!;

    // ---- predictions and the model ------------------------------------------------------------------------------

    /// <summary>
    /// Scores up to 10,000 flights at once (<c>POST /v1/predictions</c>): label, calibrated probability and the model
    /// version, in request order. A <c>400</c> (<see cref="FlightDelayApiException.Errors"/> keyed like
    /// <c>flights[3].airline</c>) names each bad flight. Safe to retry: scoring changes nothing.
    /// </summary>
    public async Task<PredictionResponse> PredictAsync(IEnumerable<Flight> flights, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(flights);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/predictions")
        {
            Content = JsonContent.Create(new { flights = flights.ToList() }, options: ClientJson.Options),
        };
        request.Options.Set(ClientResilience.SafeToRepeat, true);
        return await SendJsonAsync<PredictionResponse>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The model card (<c>GET /v1/model</c>): version, algorithm, test metrics, feature names and accepted values.</summary>
    public Task<ModelDescription> GetModelAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync<ModelDescription>("v1/model", cancellationToken);

    // ---- jobs ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Submits a file as a batch job (<c>POST /v1/jobs</c>), streamed from disk (gzip-compressed for text formats), its
    /// format from the extension (<c>.csv</c>, <c>.jsonl</c>/<c>.ndjson</c>, <c>.json</c>, <c>.parquet</c>), named after
    /// the file unless <see cref="SubmitOptions.Name"/> says otherwise. Always sends an <c>Idempotency-Key</c> (generated when
    /// none is given), so a retry after a dropped connection returns the same job instead of making a second.
    /// </summary>
    /// <exception cref="ArgumentException">An extension that names no upload format.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="FlightDelayApiException">400 (invalid rows: <see cref="FlightDelayApiException.Rows"/>; unreadable file), 409 (the key was used with another body), 413 (over the service's upload limit), 415, 503 (too much work queued, after the retries).</exception>
    public Task<JobSubmission> SubmitFileAsync(string path, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var format = FormatOf(path) ?? throw new ArgumentException(
            $"'{Path.GetFileName(path)}' has no known upload extension; use .csv, .jsonl, .ndjson, .json or .parquet, or SubmitAsync with a format.", nameof(path));
        if (!File.Exists(path)) throw new FileNotFoundException($"No file {path}.", path);
        options ??= new SubmitOptions();
        if (options.Name is null) options = options with { Name = Path.GetFileName(path) };
        var content = Upload(() => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan),
            ownsStream: true, format, options, canResend: true);
        return SubmitAsync(content, options, cancellationToken);
    }

    /// <summary>
    /// Submits a stream as a batch job. A seekable stream is rewound for a retry; a one-way stream (a pipe, a network
    /// stream) cannot be sent twice, so its submission is not retried. The stream is read, not disposed.
    /// </summary>
    /// <exception cref="FlightDelayApiException">As <see cref="SubmitFileAsync"/>.</exception>
    public Task<JobSubmission> SubmitAsync(Stream content, UploadFormat format, SubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        options ??= new SubmitOptions();
        var start = content.CanSeek ? content.Position : 0;
        var upload = Upload(() =>
        {
            if (content.CanSeek) content.Position = start;
            return content;
        }, ownsStream: false, format, options, canResend: content.CanSeek);
        return SubmitAsync(upload, options, cancellationToken);
    }

    private static UploadContent Upload(Func<Stream> open, bool ownsStream, UploadFormat format, SubmitOptions options, bool canResend)
    {
        var gzip = options.Compression switch
        {
            UploadCompression.Gzip => true,
            UploadCompression.None => false,
            _ => format != UploadFormat.Parquet,
        };
        return new UploadContent(open, ownsStream, MediaTypeOf(format), gzip, options.UploadProgress) { CanResend = canResend };
    }

    private async Task<JobSubmission> SubmitAsync(UploadContent content, SubmitOptions options, CancellationToken cancellationToken)
    {
        var key = string.IsNullOrEmpty(options.IdempotencyKey) ? $"fdc-{Guid.CreateVersion7():N}" : options.IdempotencyKey;
        var query = new List<string>();
        if (options.Name is { } name) query.Add($"name={Uri.EscapeDataString(name)}");
        if (options.SkipInvalidRows) query.Add("onInvalidRow=skip");
        if (options.Priority is { } priority) query.Add($"priority={Uri.EscapeDataString(priority)}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs" + (query.Count == 0 ? "" : "?" + string.Join('&', query))) { Content = content };
        request.Headers.Add(ClientResilience.IdempotencyKeyHeader, key);
        if (options.CallbackUrl is { } callback) request.Headers.Add("Callback-Url", callback.AbsoluteUri);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        var job = await ReadJsonAsync<JobView>(response, cancellationToken).ConfigureAwait(false);
        var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);
        return new JobSubmission(job, key, replayed);
    }

    /// <summary>The upload format a file's extension names (<c>.csv</c>, <c>.jsonl</c>, <c>.ndjson</c>, <c>.json</c>, <c>.parquet</c>, any case); null for another.</summary>
    public static UploadFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => UploadFormat.Csv,
        ".jsonl" or ".ndjson" => UploadFormat.JsonLines,
        ".json" => UploadFormat.Json,
        ".parquet" => UploadFormat.Parquet,
        _ => null,
    };

    /// <summary>The media type sent for an upload format.</summary>
    public static string MediaTypeOf(UploadFormat format) => format switch
    {
        UploadFormat.Csv => "text/csv",
        UploadFormat.JsonLines => "application/x-ndjson",
        UploadFormat.Json => "application/json",
        UploadFormat.Parquet => "application/vnd.apache.parquet",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>A job's status and progress (<c>GET /v1/jobs/{id}</c>), with its callback's attempts.</summary>
    /// <exception cref="FlightDelayApiException">404: no such job (or another key's).</exception>
    public Task<JobView> GetJobAsync(Guid id, CancellationToken cancellationToken = default) =>
        GetJsonAsync<JobView>($"v1/jobs/{id}", cancellationToken);

    /// <summary>Recent jobs, newest first (<c>GET /v1/jobs</c>), filtered by status and name, one page.</summary>
    /// <exception cref="FlightDelayApiException">400: an unknown status, a limit outside 1 to 100, a negative offset.</exception>
    public Task<JobList> ListJobsAsync(JobListQuery? query = null, CancellationToken cancellationToken = default)
    {
        query ??= new JobListQuery();
        var parts = new List<string> { $"offset={query.Offset}", $"limit={query.Limit}" };
        if (query.Status is { } status) parts.Add($"status={Uri.EscapeDataString(status)}");
        if (query.Search is { } search) parts.Add($"q={Uri.EscapeDataString(search)}");
        return GetJsonAsync<JobList>("v1/jobs?" + string.Join('&', parts), cancellationToken);
    }

    /// <summary>
    /// One page of results (<c>GET /v1/jobs/{id}/results</c>): rows after <paramref name="after"/> (a row number, 0 for
    /// the start), at most <paramref name="limit"/> (1 to 10,000). While the job runs, a page ends before the first
    /// row not yet scored.
    /// </summary>
    public Task<JobResultPage> GetResultsPageAsync(Guid id, int after = 0, int limit = 1000, CancellationToken cancellationToken = default) =>
        GetJsonAsync<JobResultPage>($"v1/jobs/{id}/results?after={after}&limit={limit}", cancellationToken);

    /// <summary>
    /// Every result of a job in row order, page by page (<paramref name="pageSize"/> rows a request, at most 10,000).
    /// On a running job it waits for rows still being scored and ends when the job has finished and every row was
    /// seen; rows of a canceled or failed job that were never scored are not in it.
    /// </summary>
    public async IAsyncEnumerable<JobResultView> GetResultsAsync(Guid id, int pageSize = 10_000, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = 0;
        var idle = _options.PollInterval;
        while (true)
        {
            var page = await GetResultsPageAsync(id, after, pageSize, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items) yield return item;
            if (page.Next is null) yield break;
            if (page.Items.Count > 0)
            {
                after = page.Items[^1].Row;
                idle = _options.PollInterval;
                continue;
            }
            // Nothing new yet: the job is still scoring the next chunk.
            await Task.Delay(idle, cancellationToken).ConfigureAwait(false);
            idle = Grow(idle);
        }
    }

    /// <summary>A job's invalid rows (<c>GET /v1/jobs/{id}/errors</c>; only jobs submitted with <see cref="SubmitOptions.SkipInvalidRows"/> have any), in row order, page by page.</summary>
    public async IAsyncEnumerable<JobRowErrorView> GetErrorsAsync(Guid id, int pageSize = 1000, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? next = $"v1/jobs/{id}/errors?after=0&limit={pageSize}";
        while (next is not null)
        {
            var page = await GetJsonAsync<JobRowErrorPage>(next, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items) yield return item;
            next = page.Next?.TrimStart('/');
        }
    }

    /// <summary>A job's probability histogram (ten bins) and delayed share by airline, of the results so far (<c>GET /v1/jobs/{id}/summary</c>).</summary>
    public Task<JobSummaryView> GetSummaryAsync(Guid id, CancellationToken cancellationToken = default) =>
        GetJsonAsync<JobSummaryView>($"v1/jobs/{id}/summary", cancellationToken);

    /// <summary>
    /// Downloads a finished job's results to a file (written beside it as <c>{path}.part</c>, then renamed over
    /// <paramref name="path"/>, so a broken download leaves no half file). Returns the bytes written.
    /// </summary>
    /// <param name="id">The job.</param>
    /// <param name="format">CSV, JSON Lines or Parquet.</param>
    /// <param name="path">Where to write.</param>
    /// <param name="includeInputs">Parquet only: also the columns airline, flightType and month of each row's flight.</param>
    /// <param name="cancellationToken">Stops the download (the part file is removed).</param>
    /// <exception cref="FlightDelayApiException">404: no such job; 409: the job has not finished (page the results meanwhile).</exception>
    public async Task<long> DownloadResultsAsync(Guid id, ResultFormat format, string path, bool includeInputs = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var part = path + ".part";
        try
        {
            long written;
            var file = new FileStream(part, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
                written = await DownloadResultsAsync(id, format, file, includeInputs, cancellationToken).ConfigureAwait(false);
            File.Move(part, path, overwrite: true);
            return written;
        }
        finally
        {
            File.Delete(part);
        }
    }

    /// <summary>Streams a finished job's results into <paramref name="destination"/> (not disposed). Returns the bytes written.</summary>
    /// <exception cref="FlightDelayApiException">404: no such job; 409: the job has not finished.</exception>
    public async Task<long> DownloadResultsAsync(Guid id, ResultFormat format, Stream destination, bool includeInputs = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var (extension, _) = ResultFile(format);
        var uri = $"v1/jobs/{id}/results.{extension}" + (includeInputs && format == ResultFormat.Parquet ? "?include=inputs" : "");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            var buffer = new byte[128 * 1024];
            long total = 0;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                total += read;
            }
            return total;
        }
    }

    /// <summary>The file extension and media type of a result format.</summary>
    public static (string Extension, string MediaType) ResultFile(ResultFormat format) => format switch
    {
        ResultFormat.Csv => ("csv", "text/csv"),
        ResultFormat.JsonLines => ("jsonl", "application/x-ndjson"),
        ResultFormat.Parquet => ("parquet", "application/vnd.apache.parquet"),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>
    /// Cancels a queued or running job (<c>POST /v1/jobs/{id}/cancel</c>): a queued job stops at once, a running one at
    /// its next chunk; results written stay readable. Not retried (a repeat would answer 409).
    /// </summary>
    /// <exception cref="FlightDelayApiException">404: no such job; 409: it has already finished.</exception>
    public async Task<JobView> CancelAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/jobs/{id}/cancel");
        return await SendJsonAsync<JobView>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a finished job's callback once more (<c>POST /v1/jobs/{id}/callback/redeliver</c>), the same event and body.</summary>
    /// <exception cref="FlightDelayApiException">404: no such job; 409: still running, callback still pending, or none.</exception>
    public async Task<JobView> RedeliverCallbackAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v1/jobs/{id}/callback/redeliver");
        return await SendJsonAsync<JobView>(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a job and its results now (<c>DELETE /v1/jobs/{id}</c>; a queued or running job is canceled first).
    /// Returns false when there was no such job, which is also what a retry after a lost answer sees.
    /// </summary>
    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"v1/jobs/{id}");
        try
        {
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (FlightDelayApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits until a job has finished and returns it (check <see cref="JobView.Status"/>: succeeded, failed or canceled;
    /// a failed job is not an exception). Each status request asks the service to hold it until the job changes
    /// (<c>Prefer: wait=N</c>, RFC 7240); a service that does not (no <c>Preference-Applied</c>) is polled every
    /// <see cref="FlightDelayClientOptions.PollInterval"/>, backing off to <see cref="FlightDelayClientOptions.MaxPollInterval"/>
    /// while nothing moves, with <c>If-None-Match</c> so an unchanged job costs a <c>304</c>.
    /// </summary>
    /// <param name="id">The job.</param>
    /// <param name="progress">Told of every change: rows done, rate and time left.</param>
    /// <param name="cancellationToken">Stops waiting (the job goes on; cancel it with <see cref="CancelAsync"/>).</param>
    /// <exception cref="FlightDelayApiException">404: no such job (or it was deleted while waiting).</exception>
    public async Task<JobView> WaitAsync(Guid id, IProgress<JobProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var rate = new RateWindow(TimeSpan.FromSeconds(10));
        var interval = _options.PollInterval;
        var wait = Math.Max(1, (int)Math.Round(_options.LongPollWait.TotalSeconds));
        string? etag = null;
        JobView? job = null;
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/jobs/{id}");
            request.Headers.TryAddWithoutValidation("Prefer", $"wait={wait}");
            if (etag is not null) request.Headers.TryAddWithoutValidation("If-None-Match", etag);
            var asked = clock.Elapsed;
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken, allowNotModified: true).ConfigureAwait(false);
            var changed = response.StatusCode != HttpStatusCode.NotModified;
            if (changed)
            {
                job = await ReadJsonAsync<JobView>(response, cancellationToken).ConfigureAwait(false);
                etag = response.Headers.ETag?.ToString();
                var done = job.ProcessedRows + job.FailedRows;
                rate.Add(clock.Elapsed, done);
                var perSecond = rate.PerSecond;
                progress?.Report(new JobProgress(job, done, job.TotalRows, perSecond,
                    perSecond is > 0 ? TimeSpan.FromSeconds((job.TotalRows - done) / perSecond.Value) : null, clock.Elapsed));
                if (job.IsFinal) return job;
            }

            var held = response.Headers.TryGetValues("Preference-Applied", out var applied)
                && applied.Any(a => a.Contains("wait", StringComparison.OrdinalIgnoreCase));
            if (held && clock.Elapsed - asked > TimeSpan.FromMilliseconds(100))
                continue; // the service held the request until something changed: ask again at once
            interval = changed ? _options.PollInterval : Grow(interval);
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    private TimeSpan Grow(TimeSpan interval) =>
        TimeSpan.FromTicks(Math.Min((long)(interval.Ticks * 1.5), _options.MaxPollInterval.Ticks));

    /// <summary>Rows per second over a sliding window of readings.</summary>
    private sealed class RateWindow(TimeSpan span)
    {
        private readonly Queue<(TimeSpan At, int Rows)> _readings = new();

        public void Add(TimeSpan at, int rows)
        {
            _readings.Enqueue((at, rows));
            while (_readings.Count > 2 && at - _readings.Peek().At > span) _readings.Dequeue();
        }

        public double? PerSecond
        {
            get
            {
                if (_readings.Count < 2) return null;
                var first = _readings.Peek();
                var last = _readings.Last();
                var seconds = (last.At - first.At).TotalSeconds;
                return seconds <= 0 || last.Rows == first.Rows ? null : (last.Rows - first.Rows) / seconds;
            }
        }
    }

    // ---- plumbing -----------------------------------------------------------------------------------------------

    private async Task<T> GetJsonAsync<T>(string uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        return await SendJsonAsync<T>(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> SendJsonAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await ReadJsonAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync<T>(ClientJson.Options, cancellationToken).ConfigureAwait(false)
        ?? throw new FlightDelayApiException(response.StatusCode, "Empty answer", $"The service answered {(int)response.StatusCode} without a body.");

    /// <summary>Sends; an error status becomes a <see cref="FlightDelayApiException"/> (the response is disposed then).</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken, bool allowNotModified = false)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/problem+json"));
        var response = await _http.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || (allowNotModified && response.StatusCode == HttpStatusCode.NotModified))
            return response;
        using (response)
            throw await FlightDelayApiException.FromAsync(response, cancellationToken).ConfigureAwait(false);
    }
}
