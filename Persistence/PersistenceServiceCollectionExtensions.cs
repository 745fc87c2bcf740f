using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
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
    /// <summary>True when <c>ConnectionStrings:Postgres</c> is set; otherwise the embedded SQLite file is used.</summary>
    public static bool UsesPostgres(this IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString("Postgres"));

    /// <summary>
    /// The jobs database: PostgreSQL from <c>ConnectionStrings:Postgres</c>, else SQLite from
    /// <c>ConnectionStrings:Sqlite</c> (default <c>Data Source=flightdelay.db</c>), plus a readiness check.
    /// </summary>
    public static IServiceCollection AddJobsDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        if (configuration.UsesPostgres())
        {
            var connectionString = configuration.GetConnectionString("Postgres");
            services.AddDbContextPool<JobsDbContext>(o => o.UseNpgsql(connectionString).UseSnakeCaseNamingConvention());
        }
        else
        {
            var connectionString = configuration.GetConnectionString("Sqlite") ?? "Data Source=flightdelay.db";
            services.AddDbContextPool<JobsDbContext>(o => o.UseSqlite(connectionString).UseSnakeCaseNamingConvention());
        }

        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section);
        services.AddHostedService<DatabaseInitializer>();
        services.AddHealthChecks().AddDbContextCheck<JobsDbContext>("database", tags: ["ready"]);
        return services;
    }

    /// <summary>Applies the migrations to PostgreSQL, or creates the SQLite schema.</summary>
    public static async Task PrepareAsync(this JobsDbContext db, CancellationToken cancellationToken = default)
    {
        if (db.Database.IsSqlite())
        {
            // SQLite's schema comes from the model, not from migrations, so a file made by an older version cannot be
            // upgraded in place: its user_version (the number of migrations it matches) tells, and it is refused loudly.
            var version = db.Database.GetMigrations().Count();
            if (await db.Database.EnsureCreatedAsync(cancellationToken))
            {
                // PRAGMA takes no parameters; the value is an int of ours.
                var stamp = "PRAGMA user_version = " + version.ToString(System.Globalization.CultureInfo.InvariantCulture) + ";";
                await db.Database.ExecuteSqlRawAsync(stamp, cancellationToken);
            }
            else if (await db.Database.SqlQueryRaw<int>("SELECT user_version AS \"Value\" FROM pragma_user_version").SingleAsync(cancellationToken) is var found && found != version)
                throw new InvalidOperationException(
                    $"The embedded database ({db.Database.GetDbConnection().DataSource}) has schema version {found}, this version needs {version}. " +
                    "Delete the file (its jobs are lost) or point ConnectionStrings:Sqlite at a new one.");
            // WAL lets the page and the API read while the in-process consumers write.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        else
        {
            await db.Database.MigrateAsync(cancellationToken);
        }
    }

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
