using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
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

    /// <summary>Switch to a new model without a restart when the files or <see cref="Directory"/> change (read at start).</summary>
    public bool HotReload { get; set; } = true;

    /// <summary>
    /// How often to compare the files' size and time with the last load, for volumes that send no file events
    /// (network filesystems); zero turns the poll off. File events and configuration changes act within a second.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(30);

}

public static class ScoringServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="CurrentModel"/> (loaded while the host starts), its <see cref="ModelReloader"/> and a readiness
    /// check. <see cref="FlightModel"/> itself is not a service: a handler that captured one would miss every reload.
    /// </summary>
    public static IServiceCollection AddFlightModel(this IServiceCollection services)
    {
        services.AddOptions<ModelOptions>()
            .BindConfiguration(ModelOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => File.Exists(Path.Combine(o.Directory, FlightModel.ModelFileName)), "Model:Directory must contain model.zip.")
            .ValidateOnStart();
        services.AddSingleton(sp => new CurrentModel(FlightModel.Load(sp.GetRequiredService<IOptions<ModelOptions>>().Value.Directory)));
        services.AddSingleton<PredictionMetrics>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<ModelWarmup>();
        services.AddHostedService<ModelReloader>();
        services.AddHealthChecks().AddCheck<ModelHealthCheck>("model", tags: ["ready"]);
        return services;
    }

    // Loads the model while the host starts, so a broken model file stops the start instead of the first request.
    private sealed class ModelWarmup(IServiceProvider services) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetRequiredService<CurrentModel>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    // A failed reload is Degraded, not Unhealthy: the previous model goes on serving, but someone should look.
    private sealed class ModelHealthCheck(CurrentModel current) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(current.Failure is { } failure
                ? HealthCheckResult.Degraded($"model {current.Model.Version} serving; reloading from {failure.Source} failed at {failure.At:O}: {failure.Reason}")
                : HealthCheckResult.Healthy($"model {current.Model.Version} loaded"));
    }
}
