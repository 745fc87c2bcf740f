using MassTransit;
using FlightDelay.Persistence;
using FlightDelay.Processing.Hosting;
using FlightDelay.Processing.Jobs;
using FlightDelay.ServiceDefaults;

namespace FlightDelay.Worker;

/// <summary>
/// The worker host: the chunk consumers on RabbitMQ, writing to PostgreSQL, with the stalled-chunk dispatcher
/// and retention, and its own <c>/health</c> and <c>/metrics</c>. Any number of them share one queue.
/// </summary>
public static class WorkerApp
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        if (JobsHosting.From(builder.Configuration).Mode != HostingMode.Distributed)
            throw new InvalidOperationException(
                "A worker needs the distributed mode: ConnectionStrings:RabbitMq and ConnectionStrings:Postgres. Without them, run the API alone: it hosts the consumers itself (the embedded mode).");

        // Several workers on one machine must not fight over a port: without a configured URL, take any free one.
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
            builder.WebHost.UseUrls("http://127.0.0.1:0");

        builder.AddServiceDefaults("flightdelay-worker");
        builder.AddJobStore();
        builder.AddJobConsumers();
        // Stopping waits for in-flight chunks; a chunk that cannot finish in time is released or its lease expires.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));

        var app = builder.Build();
        app.MapServiceDefaults();
        return app;
    }

    /// <summary>
    /// <c>migrate</c>: applies the EF Core migrations to <c>ConnectionStrings:Postgres</c>, then, when
    /// <c>ConnectionStrings:RabbitMq</c> is set, declares the chunk queue as the workers would, and exits. A database
    /// or broker that does not answer yet (a fresh volume still initialising) is tried again for
    /// <c>Migrate:WaitSeconds</c> (120) before giving up; migrations and declarations are idempotent.
    /// </summary>
    public static async Task<int> MigrateAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (JobsHosting.From(builder.Configuration) is not { Database: { Provider: DatabaseProvider.Postgres } database } hosting)
        {
            Console.Error.WriteLine("migrate needs ConnectionStrings:Postgres (for example the ConnectionStrings__Postgres environment variable).");
            return 2;
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(builder.Configuration.GetValue("Migrate:WaitSeconds", 120));
        builder.Services.AddJobsDatabase(database);
        using (var host = builder.Build())
        {
            await RetryAsync("database", deadline, async () =>
            {
                await using var scope = host.Services.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<JobsDbContext>().PrepareAsync();
            });
        }
        Console.WriteLine("Database migrated.");

        if (hosting.RabbitMq is not null)
        {
            var topology = Host.CreateApplicationBuilder(args);
            topology.AddJobTopologyDeployment();
            using var host = topology.Build();
            var bus = host.Services.GetRequiredService<IBusControl>();
            await RetryAsync("broker", deadline, async () =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await bus.DeployAsync(timeout.Token);
            });
            Console.WriteLine("Broker topology declared.");
        }
        return 0;
    }

    private static async Task RetryAsync(string what, DateTime deadline, Func<Task> attempt)
    {
        for (var wait = TimeSpan.FromSeconds(1); ; wait = TimeSpan.FromSeconds(Math.Min(wait.TotalSeconds * 2, 10)))
        {
            try
            {
                await attempt();
                return;
            }
            // Connection refused, the server still starting up (57P03), a timeout: all look alike from here, and the
            // deadline bounds a failure that is no such thing (a wrong password fails the same way every time).
            catch (Exception ex) when (DateTime.UtcNow + wait < deadline)
            {
                Console.Error.WriteLine($"The {what} is not ready ({ex.GetBaseException().Message}); trying again in {wait.TotalSeconds:0} s.");
                await Task.Delay(wait);
            }
        }
    }
}
