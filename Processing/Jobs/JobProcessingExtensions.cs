using FlightDelay.Persistence;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Scoring;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

public static class JobProcessingExtensions
{
    /// <summary>True when <c>ConnectionStrings:RabbitMq</c> (an <c>amqp://</c> URI) is set; otherwise MassTransit's in-memory transport.</summary>
    public static bool UsesRabbitMq(this IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString("RabbitMq"));

    /// <summary>
    /// The job pipeline: database, model, MassTransit on RabbitMQ (or in memory), and, when
    /// <paramref name="hostConsumers"/>, the chunk consumer with the stalled-chunk dispatcher, retention and callback delivery.
    /// </summary>
    public static IHostApplicationBuilder AddJobPipeline(this IHostApplicationBuilder builder, bool hostConsumers)
    {
        var configuration = builder.Configuration;
        if (configuration.UsesRabbitMq() && !configuration.UsesPostgres())
            throw new InvalidOperationException(
                "ConnectionStrings:RabbitMq is set but ConnectionStrings:Postgres is not: workers in other processes cannot share the embedded SQLite file. Set both, or neither for the embedded default.");

        var services = builder.Services;
        services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddJobsDatabase(configuration);
        services.AddFlightModel();
        services.AddSingleton<JobMetrics>();
        services.AddSingleton<ChunkDispatcher>();
        // Both hosts check callback URLs (the API at submission, consumers before each delivery); only a host that
        // delivers them needs the signing key.
        services.AddOptions<CallbackOptions>().BindConfiguration(CallbackOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CallbackOptions>>(new CallbackOptionsValidator(delivers: hostConsumers));

        services.AddMassTransit(bus =>
        {
            if (hostConsumers)
                bus.AddConsumer<ScoreChunkConsumer, ScoreChunkConsumerDefinition>();

            if (configuration.UsesRabbitMq())
            {
                var uri = new Uri(configuration.GetConnectionString("RabbitMq")!);
                services.AddHealthChecks().AddCheck("rabbitmq", new Hosting.BrokerHealthCheck(uri), tags: ["ready"]);
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    rabbit.Host(uri);
                    rabbit.ConfigureEndpoints(context);
                });
            }
            else
            {
                bus.UsingInMemory((context, memory) => memory.ConfigureEndpoints(context));
            }
        });

        if (hostConsumers)
        {
            services.AddSingleton<WorkerIdentity>();
            services.AddScoped<ChunkProcessor>();
            services.AddSingleton<StalledChunkDispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<StalledChunkDispatcher>());
            services.AddSingleton<JobRetentionService>();
            services.AddHostedService(sp => sp.GetRequiredService<JobRetentionService>());
            services.AddHostedService<JobStateSweep>();
            services.AddHttpClient(CallbackDispatcher.HttpClientName, (sp, client) => client.Timeout = sp.GetRequiredService<IOptions<CallbackOptions>>().Value.Timeout)
                .ConfigurePrimaryHttpMessageHandler(() => new System.Net.Http.SocketsHttpHandler
                {
                    // A redirect could lead anywhere, past the allow-list: a 3xx is an unsuccessful attempt, not followed.
                    AllowAutoRedirect = false,
                    UseCookies = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                })
                .RemoveAllLoggers();
            services.AddSingleton<CallbackDispatcher>();
            services.AddHostedService(sp => sp.GetRequiredService<CallbackDispatcher>());
        }
        return builder;
    }
}
