using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Persistence;

/// <summary>Bound from <c>Database</c>.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Apply pending EF Core migrations to PostgreSQL when the host starts. Off by default: migrate explicitly.</summary>
    public bool MigrateOnStart { get; set; }
}

public static class PersistenceServiceCollectionExtensions
{
    /// <summary>The jobs database (<see cref="JobsDatabase"/>), pooled contexts, its schema on start and a readiness check.</summary>
    public static IServiceCollection AddJobsDatabase(this IServiceCollection services, JobsDatabase database)
    {
        services.AddDbContextPool<JobsDbContext>(database.Configure);
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddHostedService<DatabaseInitializer>();
        services.AddHealthChecks().AddDbContextCheck<JobsDbContext>("database", tags: ["ready"]);
        return services;
    }

    /// <summary>Applies the migrations to PostgreSQL, or creates the SQLite schema.</summary>
    public static Task PrepareAsync(this JobsDbContext db, CancellationToken cancellationToken = default) =>
        JobsDatabase.PrepareAsync(db, cancellationToken);

    /// <summary>SQLite: create the schema on start (embedded default). PostgreSQL: migrate only when asked to.</summary>
    private sealed class DatabaseInitializer(IServiceProvider services, IOptions<DatabaseOptions> options, ILogger<DatabaseInitializer> logger) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            if (db.Database.IsSqlite() || options.Value.MigrateOnStart)
            {
                await db.PrepareAsync(cancellationToken);
                logger.LogInformation("Database schema ready ({Provider})", db.Database.ProviderName);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
