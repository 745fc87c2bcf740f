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

    /// <summary><c>migrate</c>: applies the EF Core migrations to <c>ConnectionStrings:Postgres</c> and exits.</summary>
    public static async Task<int> MigrateAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (JobsHosting.From(builder.Configuration).Database is not { Provider: DatabaseProvider.Postgres } database)
        {
            Console.Error.WriteLine("migrate needs ConnectionStrings:Postgres (for example the ConnectionStrings__Postgres environment variable).");
            return 2;
        }
        builder.Services.AddJobsDatabase(database);
        using var host = builder.Build();
        await using var scope = host.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<JobsDbContext>().PrepareAsync();
        Console.WriteLine("Database migrated.");
        return 0;
    }
}
