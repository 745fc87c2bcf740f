using FlightDelay.Persistence;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Processing.Hosting;
using FlightDelay.Scoring;
using MassTransit;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// The job system's registrations, by role. Every host calls <see cref="AddJobStore"/>; then a host that only sends work
/// (the API when distributed) calls <see cref="AddJobSubmission"/>, one that scores it (a worker, or the API when
/// embedded) <see cref="AddJobConsumers"/>. Either registers the bus, so call one of them, once.
/// </summary>
public static class JobProcessingExtensions
{
    /// <summary>
    /// The hosting mode (<see cref="JobsHosting"/>, logged at start and shown in readiness), the jobs database, the model,
    /// <see cref="JobOptions"/>, the job metrics and the <see cref="JobLifecycle"/>. Returns the mode.
    /// The bus registration logs the mode at start.
    /// </summary>
    public static JobsHosting AddJobStore(this IHostApplicationBuilder builder)
    {
        var hosting = JobsHosting.From(builder.Configuration);
        var services = builder.Services;
        services.AddSingleton(hosting);
        services.AddHealthChecks().AddCheck<JobsHosting.HealthCheck>("hosting", tags: ["ready"]);
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddJobsDatabase(hosting.Database);
        services.AddFlightModel();
        services.AddOptions<Models.ModelRegistryOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Models.ModelRegistry>();
        services.AddSingleton<IModelDeployment>(sp => sp.GetRequiredService<Models.ModelRegistry>());
        services.AddHostedService<Models.ModelRegistry.RoleSync>();
        services.AddSingleton<JobMetrics>();
        services.AddHostedService<JobMetrics.CounterInitializer>();
        services.AddScoped<JobLifecycle>();
        // Both sides score: a worker its chunks, the API small jobs whole as it accepts them (JobOptions.InlineRows).
        services.AddSingleton<ChunkScorer>();
        services.AddSingleton<WorkerIdentity>();
        services.AddScoped<Models.GroundTruth>();
        services.AddScoped<Models.InputDrift>();
        services.AddSingleton<JobChanges>();
        // This module's telemetry: the job meters, the model's (registered by AddFlightModel above), and the traces of
        // the bus and the database (recorded only when ServiceDefaults enables tracing).
        services.ConfigureOpenTelemetryMeterProvider(m => m.AddMeter(JobMetrics.MeterName, PredictionMetrics.MeterName, ModelReloader.MeterName));
        services.ConfigureOpenTelemetryTracerProvider(t => t.AddSource("MassTransit", "Npgsql"));
        services.AddOptions<CallbackOptions>().BindConfiguration(CallbackOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        return hosting;
    }

    /// <summary>
    /// For a host where clients wait on jobs (the API): with PostgreSQL, <see cref="JobChanges.Listener"/> relays the
    /// changes other processes commit (the workers'). With SQLite nothing else writes the jobs: this process's own
    /// signals are all there are.
    /// </summary>
    public static IHostApplicationBuilder AddJobChangeListener(this IHostApplicationBuilder builder)
    {
        var hosting = builder.Services.Select(d => d.ImplementationInstance).OfType<JobsHosting>().SingleOrDefault()
            ?? throw new InvalidOperationException("Call AddJobStore() before AddJobChangeListener().");
        if (hosting.Database.Provider == DatabaseProvider.Postgres)
            builder.Services.AddHostedService<JobChanges.Listener>();
        return builder;
    }

    /// <summary>The sending side: the bus (no consumers) and the <see cref="ChunkDispatcher"/>. Callback URLs are only checked here, not signed.</summary>
    public static IHostApplicationBuilder AddJobSubmission(this IHostApplicationBuilder builder)
    {
        builder.AddJobBus(consumers: false);
        builder.Services.AddSingleton<IValidateOptions<CallbackOptions>>(new CallbackOptionsValidator(delivers: false));
        return builder;
    }

    /// <summary>
    /// The scoring side: the bus with the chunk consumer, and the sweeps (<see cref="AddJobSweeps"/>) every consumer host runs.
    /// </summary>
    public static IHostApplicationBuilder AddJobConsumers(this IHostApplicationBuilder builder)
    {
        builder.AddJobBus(consumers: true);
        builder.Services.AddScoped<ChunkProcessor>();
        return builder.AddJobSweeps();
    }

    /// <summary>
    /// The sweeps: stalled chunks sent again, retention and abandoned uploads, the state gauges, callback delivery (which
    /// needs the signing key). Every consumer host runs them, and a distributed API with <see cref="JobsHosting.SweepsInApi"/>
    /// (after <see cref="AddJobSubmission"/>), so they go on with no worker. Each claims its work in the database first,
    /// so several hosts running them at once never do the same piece twice.
    /// </summary>
    public static IHostApplicationBuilder AddJobSweeps(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(StalledChunkDispatcher)))
            return builder;
        services.AddSingleton<IValidateOptions<CallbackOptions>>(new CallbackOptionsValidator(delivers: true));
        services.AddSingleton<StalledChunkDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<StalledChunkDispatcher>());
        services.AddSingleton<JobRetentionService>();
        services.AddHostedService(sp => sp.GetRequiredService<JobRetentionService>());
        services.AddHostedService<JobStateSweep>();
        services.TryAddSingleton<ICallbackResolver, DnsCallbackResolver>();
        services.AddHttpClient(CallbackDispatcher.HttpClientName, (sp, client) => client.Timeout = sp.GetRequiredService<IOptions<CallbackOptions>>().Value.Timeout)
            // Connects only to addresses it checked itself (no proxy, no redirects): CallbackAddresses.
            .ConfigurePrimaryHttpMessageHandler(sp => CallbackAddresses.CreateHandler(sp.GetRequiredService<ICallbackResolver>(),
                sp.GetRequiredService<IOptions<CallbackOptions>>().Value.AllowedNetworkRanges))
            .RemoveAllLoggers();
        services.AddSingleton<CallbackDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackDispatcher>());
        return builder;
    }

    /// <summary>
    /// For <c>migrate</c>: the workers' bus, chunk consumer included, set to declare its broker topology (the chunk queue,
    /// its exchange and binding, as the workers would) and nothing else. Resolve <see cref="IBusControl"/> and call
    /// <c>DeployAsync</c>: the queue then exists before any job is sent, so KEDA's RabbitMQ scaler finds it on a fresh broker.
    /// </summary>
    public static IHostApplicationBuilder AddJobTopologyDeployment(this IHostApplicationBuilder builder)
    {
        builder.AddJobStore();
        builder.AddJobBus(consumers: true, deployTopologyOnly: true);
        return builder;
    }

    /// <summary>MassTransit on RabbitMQ (distributed) or in memory (embedded), with the chunk consumer when asked.</summary>
    private static void AddJobBus(this IHostApplicationBuilder builder, bool consumers, bool deployTopologyOnly = false)
    {
        var services = builder.Services;
        var hosting = services.Select(d => d.ImplementationInstance).OfType<JobsHosting>().SingleOrDefault()
            ?? throw new InvalidOperationException("Call AddJobStore() before AddJobSubmission() or AddJobConsumers().");
        if (services.Any(d => d.ServiceType == typeof(ChunkDispatcher)))
            throw new InvalidOperationException("The job bus is registered already: call AddJobSubmission() or AddJobConsumers(), not both.");
        services.AddSingleton<ChunkDispatcher>();
        services.AddHostedService(sp => new HostingModeLog(hosting, consumers, sp.GetRequiredService<IHostEnvironment>(), sp.GetRequiredService<ILogger<JobsHosting>>()));
        services.AddMassTransit(bus =>
        {
            // MassTransit 8.4+ reports usage to a third-party host; no egress an operator did not configure (SECURITY.md).
            bus.DisableUsageTelemetry();
            if (consumers)
            {
                bus.AddConsumer<ScoreChunkConsumer, ScoreChunkConsumerDefinition>();
                bus.AddConsumer<ExpressScoreChunkConsumer, ExpressScoreChunkConsumerDefinition>();
            }
            if (hosting.RabbitMq is { } uri)
            {
                // Ready while any node answers: the bus fails over to any of them.
                services.AddHealthChecks().Add(new HealthCheckRegistration("rabbitmq",
                    sp => new BrokerHealthCheck(uri, sp.GetRequiredService<IOptions<JobOptions>>().Value.BrokerNodes), failureStatus: null, tags: ["ready"]));
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    var nodes = context.GetRequiredService<IOptions<JobOptions>>().Value.BrokerNodes.Where(n => !string.IsNullOrWhiteSpace(n)).ToList();
                    // Publisher confirms stay on (MassTransit's default); with nodes, the connection fails over between them.
                    rabbit.Host(uri, host => { if (nodes.Count > 0) host.UseCluster(cluster => { foreach (var node in nodes.Prepend(uri.Authority)) cluster.Node(node); }); });
                    rabbit.DeployTopologyOnly = deployTopologyOnly;
                    rabbit.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, memory) => memory.ConfigureEndpoints(context));
            }
        });
    }

    /// <summary>Says at start which mode this process runs in, and whether it scores.</summary>
    private sealed class HostingModeLog(JobsHosting hosting, bool consumers, IHostEnvironment environment, ILogger<JobsHosting> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogInformation("{Application} hosting mode: {Description}; {Role}", environment.ApplicationName, hosting.Description,
                consumers ? "scores chunks in this process" : "sends chunks to the workers");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
