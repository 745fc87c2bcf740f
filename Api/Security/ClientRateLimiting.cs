using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using FlightDelay.Api.Infrastructure;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Security;

/// <summary>Per-client request rate, bound from <c>RateLimiting</c>, read at start. Off (0) by default.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Sustained requests per second for one client (an API key, or an address when keys are off); 0 turns limiting off.</summary>
    [Range(0, 1_000_000)]
    public int RequestsPerSecond { get; set; }

    /// <summary>Requests a client may send at once above the sustained rate; defaults to one second's worth.</summary>
    [Range(0, 10_000_000)]
    public int Burst { get; set; }
}

public static class ClientRateLimiting
{
    public const string Policy = "per-client";

    /// <summary>A token bucket per client; beyond it, <c>429</c> with <c>Retry-After</c> and a problem body.</summary>
    public static IServiceCollection AddClientRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await Problems.Status(StatusCodes.Status429TooManyRequests, "Too many requests.",
                    $"This client is over its request rate; retry after {retryAfter} s.").ExecuteAsync(context.HttpContext);
            };
            limiter.AddPolicy<string, PerClientPolicy>(Policy);
        });
        return services;
    }

    // A class rather than a lambda: the options come in once, not from the request's services on every call.
    private sealed class PerClientPolicy(IOptionsMonitor<RateLimitOptions> options) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

        public RateLimitPartition<string> GetPartition(HttpContext http)
        {
            var limits = options.CurrentValue;
            if (limits.RequestsPerSecond == 0)
                return RateLimitPartition.GetNoLimiter("unlimited");
            var client = http.User.Identity?.Name ?? http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            return RateLimitPartition.GetTokenBucketLimiter(client, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = limits.Burst > 0 ? limits.Burst : limits.RequestsPerSecond,
                TokensPerPeriod = limits.RequestsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }
}
