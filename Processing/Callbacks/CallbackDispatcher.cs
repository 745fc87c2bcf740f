using System.Diagnostics;
using System.Net.Http.Headers;
using FlightDelay.Persistence.Jobs;
using StatusCodes = Microsoft.AspNetCore.Http.StatusCodes;
using FlightDelay.Processing.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Callbacks;

/// <summary>
/// Delivers the pending callbacks of finished jobs, from every consumer host. Each attempt is claimed first with a
/// conditional update of the job's attempt count (so no two hosts POST the same attempt, and a host that dies mid-POST
/// only delays the next attempt until its claim runs out), then POSTed, then recorded in <c>job_callback_attempts</c>
/// with the job's new callback state in one transaction. 2xx is delivered; anything else is retried with exponential
/// backoff and jitter up to <see cref="CallbackOptions.MaxAttempts"/>, then the callback is failed.
/// </summary>
public sealed class CallbackDispatcher(
    IServiceScopeFactory scopes,
    IHttpClientFactory httpClients,
    TimeProvider clock,
    IOptions<CallbackOptions> options,
    ILogger<CallbackDispatcher> logger) : SweepService(clock, logger)
{
    /// <summary>The named HttpClient: no redirects followed, no cookies, no request logging (URLs may carry tokens).</summary>
    public const string HttpClientName = "callbacks";

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<string?> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var outcomes = await SweepAsync(cancellationToken);
        return outcomes.Count > 0 ? $"{outcomes.Count} callback attempts ({string.Join(", ", outcomes.GroupBy(o => o).Select(g => $"{g.Count()} {g.Key}"))})" : null;
    }

    /// <summary>One pass over the due callbacks; returns the outcome of each attempt this host made.</summary>
    public async Task<IReadOnlyCollection<string>> SweepAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<(Guid JobId, int Attempts)> due;
        await using (var scope = scopes.CreateAsyncScope())
            due = await scope.ServiceProvider.GetRequiredService<JobLifecycle>().DueCallbacksAsync(options.Value.MaxConcurrentDeliveries * 4, cancellationToken);

        var outcomes = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.Value.MaxConcurrentDeliveries, CancellationToken = cancellationToken },
            async (job, ct) =>
            {
                if (await AttemptAsync(job.JobId, job.Attempts, ct) is { } outcome) outcomes.Add(outcome);
            });
        return outcomes;
    }

    /// <summary>Claims attempt <c>seen + 1</c> of the job's callback and makes it; null when another host claimed it first.</summary>
    private async Task<string?> AttemptAsync(Guid jobId, int seen, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var lifecycle = scope.ServiceProvider.GetRequiredService<JobLifecycle>();
        var attempt = seen + 1;
        var now = Clock.GetUtcNow().UtcDateTime;
        if (await lifecycle.ClaimCallbackAttemptAsync(jobId, seen, settings.Timeout + TimeSpan.FromSeconds(30), cancellationToken) is not { } claim)
            return null;
        var (job, versions) = claim;
        var record = new JobCallbackAttempt { JobId = jobId, Attempt = attempt, DeliveryId = Guid.CreateVersion7(), AttemptedAt = now };

        var started = Stopwatch.GetTimestamp();
        var permanent = false;
        TimeSpan? retryAfter = null;
        if (CallbackUrls.WhyRefused(job.CallbackUrl ?? "", settings) is { } refusal)
        {
            // The allow-list changed since the job was submitted: never call a host it no longer names.
            record.Error = $"Not sent: {refusal}";
            permanent = true;
        }
        else
        {
            try
            {
                (record.StatusCode, retryAfter) = await PostAsync(job, versions, record, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                record.Error = Describe(ex);
            }
            catch (OperationCanceledException)
            {
                await lifecycle.ReturnCallbackClaimAsync(jobId, attempt);
                throw;
            }
        }
        record.DurationMs = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        var delivered = record.StatusCode is >= 200 and < 300;
        // 410 Gone: the receiver says the endpoint is no more (Standard Webhooks): stop, as for a host no longer allowed.
        var giveUp = !delivered && (permanent || record.StatusCode == StatusCodes.Status410Gone || attempt >= settings.MaxAttempts);
        var state = delivered ? CallbackState.Delivered : giveUp ? CallbackState.Failed : CallbackState.Pending;
        DateTime? next = state == CallbackState.Pending ? Clock.GetUtcNow().UtcDateTime + NextDelay(attempt, retryAfter, settings) : null;
        var outcome = await lifecycle.RecordCallbackAttemptAsync(record, state, next);

        var host = Uri.TryCreate(job.CallbackUrl, UriKind.Absolute, out var uri) ? uri.Host : "?";
        if (giveUp)
            logger.LogWarning("Callback of job {JobId} to {Host} failed on attempt {Attempt} and is given up: {Status} {Error}", jobId, host, attempt, record.StatusCode, record.Error);
        else if (!delivered)
            logger.LogInformation("Callback of job {JobId} to {Host} failed on attempt {Attempt} ({Status} {Error}); next at {Next:o}", jobId, host, attempt, record.StatusCode, record.Error, next);
        return outcome;
    }

    /// <summary>
    /// POSTs the signed notification; returns the receiver's status code (its body is not read) and, for a <c>429</c> or
    /// <c>503</c>, how long its <c>Retry-After</c> asks to wait.
    /// </summary>
    private async Task<(int Status, TimeSpan? RetryAfter)> PostAsync(Job job, IReadOnlyList<string> versions, JobCallbackAttempt record, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var body = CallbackNotifications.Of(job, versions, settings.PublicBaseUrl).ToUtf8Json();
        var now = Clock.GetUtcNow();
        var timestamp = now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var eventId = job.Id.ToString();
        using var request = new HttpRequestMessage(HttpMethod.Post, job.CallbackUrl) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("FlightDelay-Callbacks", "1"));
        // Standard Webhooks: the event id (the same on every attempt), when it was sent, and a signature per key.
        request.Headers.Add("webhook-id", eventId);
        request.Headers.Add("webhook-timestamp", timestamp);
        request.Headers.Add("webhook-signature", CallbackSignature.Standard(settings.SigningKeys, eventId, now.ToUnixTimeSeconds(), body));
        // Deprecated, kept for one release: the headers of the first callback format.
        request.Headers.Add("X-FlightDelay-Event", eventId);
        request.Headers.Add("X-FlightDelay-Delivery", record.DeliveryId.ToString());
        request.Headers.Add("X-FlightDelay-Attempt", record.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-FlightDelay-Timestamp", timestamp);
        request.Headers.Add("X-FlightDelay-Signature", CallbackSignature.Legacy(settings.SigningKey!, now.ToUnixTimeSeconds(), body));

        using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var status = (int)response.StatusCode;
        TimeSpan? retryAfter = status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable
            ? response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - now,
                _ => null,
            }
            : null;
        return (status, retryAfter);
    }

    /// <summary>Longest wait a receiver's <c>Retry-After</c> can ask for: past it, the backoff's own schedule decides.</summary>
    internal static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    /// <summary>The backoff, or longer when the receiver asked for it with <c>Retry-After</c> (at most <see cref="MaxRetryAfter"/>).</summary>
    internal static TimeSpan NextDelay(int attempt, TimeSpan? retryAfter, CallbackOptions settings)
    {
        var backoff = Backoff(attempt, settings);
        return retryAfter is { } asked && asked > backoff ? (asked < MaxRetryAfter ? asked : MaxRetryAfter) : backoff;
    }

    /// <summary>Exponential from <see cref="CallbackOptions.InitialBackoff"/>, capped, with "equal jitter" (half fixed, half random) so retries spread out.</summary>
    internal static TimeSpan Backoff(int attempt, CallbackOptions settings)
    {
        var exponential = settings.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 30));
        var capped = Math.Min(exponential, settings.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + Random.Shared.NextDouble() * capped / 2);
    }

    private static string Describe(Exception ex)
    {
        var message = ex switch
        {
            TaskCanceledException => "timed out",
            HttpRequestException { HttpRequestError: var error } http when error != HttpRequestError.Unknown => $"{error}: {http.Message}",
            _ => $"{ex.GetType().Name}: {ex.Message}",
        };
        return message.Length > 500 ? message[..500] : message;
    }
}
