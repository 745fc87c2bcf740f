using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace FlightDelay.Client;

/// <summary>
/// The client's one retry policy: only requests that are safe to repeat, on failures that may pass, honouring
/// <c>Retry-After</c>. No timeouts of its own: uploads and downloads of millions of rows take minutes; callers cancel.
/// </summary>
internal static class ClientResilience
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>Set on a request whose repetition changes nothing though its method is POST (predictions).</summary>
    public static readonly HttpRequestOptionsKey<bool> SafeToRepeat = new("FlightDelay.SafeToRepeat");

    public static HttpRetryStrategyOptions RetryOptions(FlightDelayClientOptions options) => new()
    {
        MaxRetryAttempts = Math.Max(1, options.MaxRetries),
        Delay = options.RetryDelay,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        // A 429 or 503 (and a submission's 409 while its first try still uploads) says when to come back.
        ShouldRetryAfterHeader = true,
        MaxDelay = TimeSpan.FromMinutes(2),
        ShouldHandle = args => ValueTask.FromResult(options.MaxRetries > 0 && ShouldRetry(args.Outcome, args.Context.GetRequestMessage())),
    };

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, HttpRequestMessage? request)
    {
        if (request is null || !IsSafeToRepeat(request)) return false;
        if (outcome.Exception is OperationCanceledException) return false;
        if (HttpClientResiliencePredicates.IsTransient(outcome)) return true;
        // The service's "a request with this Idempotency-Key is in progress": the first try is still being read (its
        // connection broke but the server has not noticed yet). Retrying after Retry-After gets the original job.
        return outcome.Result is { StatusCode: HttpStatusCode.Conflict, Headers.RetryAfter: not null }
            && request.Headers.Contains(IdempotencyKeyHeader);
    }

    /// <summary>GET, HEAD, DELETE, a POST marked safe, or a submission carrying an Idempotency-Key whose body can be sent again.</summary>
    internal static bool IsSafeToRepeat(HttpRequestMessage request)
    {
        if (request.Content is UploadContent { CanResend: false }) return false;
        if (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Delete) return true;
        if (request.Options.TryGetValue(SafeToRepeat, out var safe) && safe) return true;
        return request.Method == HttpMethod.Post && request.Headers.Contains(IdempotencyKeyHeader);
    }
}
