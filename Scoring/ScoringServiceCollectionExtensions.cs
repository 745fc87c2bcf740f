using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace FlightDelay.Scoring;

/// <summary>Where the model lives. Bound from the <c>Model</c> configuration section.</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>Folder holding <c>model.zip</c> and <c>model-card.json</c>; defaults to the one shipped beside the binaries.</summary>
    [Required]
    public string Directory { get; set; } = Path.Combine(AppContext.BaseDirectory, "Model");
}

public static class ScoringServiceCollectionExtensions
{
    /// <summary>Registers the model as a singleton, loaded once, and a readiness check that it loaded.</summary>
    public static IServiceCollection AddFlightModel(this IServiceCollection services)
    {
        services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => File.Exists(Path.Combine(o.Directory, FlightModel.ModelFileName)), "Model:Directory must contain model.zip.")
            .ValidateOnStart();
        services.AddSingleton(sp => FlightModel.Load(sp.GetRequiredService<IOptions<ModelOptions>>().Value.Directory));
        services.AddSingleton<PredictionMetrics>();
        services.AddHostedService<ModelWarmup>();
        services.AddHealthChecks().AddCheck<ModelHealthCheck>("model", tags: ["ready"]);
        return services;
    }

    // Loads the model while the host starts, so a broken model file stops the start instead of the first request.
    private sealed class ModelWarmup(IServiceProvider services) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<FlightModel>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class ModelHealthCheck(FlightModel model) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy($"model {model.Version} loaded"));
    }
}
