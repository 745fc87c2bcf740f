using FlightDelay.Client;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="FlightDelayClient"/> with the HTTP client factory.</summary>
public static class FlightDelayServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FlightDelayClient"/> as a typed HTTP client with the client's retry policy
    /// (<see cref="FlightDelayClientOptions.MaxRetries"/>) and options from <paramref name="configure"/>. Returns the
    /// builder, to add handlers or set the primary handler.
    /// </summary>
    /// <example><code>services.AddFlightDelayClient(o => { o.BaseAddress = new Uri("https://flightdelay.example.com/"); o.ApiKey = key; });</code></example>
    public static IHttpClientBuilder AddFlightDelayClient(this IServiceCollection services, Action<FlightDelayClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<FlightDelayClientOptions>();
        if (configure is not null) options.Configure(configure);
        var builder = services.AddHttpClient<FlightDelayClient>((provider, http) =>
            FlightDelayClient.Configure(http, provider.GetRequiredService<IOptions<FlightDelayClientOptions>>().Value));
        builder.ConfigurePrimaryHttpMessageHandler(FlightDelayClient.PrimaryHandler);
        builder.AddResilienceHandler("flightdelay", (pipeline, context) =>
            pipeline.AddRetry(ClientResilience.RetryOptions(context.ServiceProvider.GetRequiredService<IOptions<FlightDelayClientOptions>>().Value)));
        return builder;
    }
}
