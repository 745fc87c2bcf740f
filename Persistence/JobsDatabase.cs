using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace FlightDelay.Persistence;

public enum DatabaseProvider
{
    Postgres,
    Sqlite,
}

/// <summary>
/// Which database holds the jobs, and everything that differs between the two: PostgreSQL (schema by migrations) or
/// the embedded SQLite file (schema from the model, WAL, a busy timeout). SQLite's specifics live here and nowhere else.
/// </summary>
/// <param name="Provider">PostgreSQL or SQLite.</param>
/// <param name="ConnectionString">An Npgsql or Microsoft.Data.Sqlite connection string.</param>
public sealed record JobsDatabase(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>The embedded default's file, in the working directory.</summary>
    public const string DefaultSqlite = "Data Source=flightdelay.db";

    /// <summary>
    /// How long a SQLite statement waits for another connection's write lock before failing. Writes are short
    /// (no transaction spans an upload or a scoring), so a wait is milliseconds; the bound only stops a deadlock.
    /// </summary>
    public static readonly TimeSpan SqliteBusyTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Statements Npgsql prepares on each connection after their second use, unless the connection string says
    /// otherwise (<c>Max Auto Prepare</c>; 0 turns it off, as a PgBouncer before 1.21 in transaction mode needs): the
    /// small-job path runs the same few statements thousands of times a second, and PostgreSQL then skips parsing and
    /// planning them (9% more 100-row jobs per second on 2 cores).
    /// </summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>A PostgreSQL database; <see cref="DefaultMaxAutoPrepare"/> applies when the string does not set <c>Max Auto Prepare</c>.</summary>
    public static JobsDatabase Postgres(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        // Npgsql's builder knows every keyword (ContainsKey is true for all); the string as given says what was set.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>();
        if (!given.Any(key => key.Replace(" ", "").Equals("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase)))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
            builder.AutoPrepareMinUsages = 2;
        }
        return new(DatabaseProvider.Postgres, builder.ConnectionString);
    }

    /// <summary>A SQLite database, <see cref="DefaultSqlite"/> when <paramref name="connectionString"/> is empty.</summary>
    public static JobsDatabase Sqlite(string? connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(connectionString) ? DefaultSqlite : connectionString);
        // Microsoft.Data.Sqlite retries a busy database until the command timeout: that is SQLite's busy timeout here.
        if (builder.DefaultTimeout == new SqliteConnectionStringBuilder().DefaultTimeout)
            builder.DefaultTimeout = (int)SqliteBusyTimeout.TotalSeconds;
        return new(DatabaseProvider.Sqlite, builder.ToString());
    }

    /// <summary>"PostgreSQL (host/database)" or "SQLite (file)", without credentials.</summary>
    public string Description
    {
        get
        {
            if (Provider == DatabaseProvider.Sqlite) return $"SQLite ({new SqliteConnectionStringBuilder(ConnectionString).DataSource})";
            var postgres = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
            return $"PostgreSQL ({postgres.Host}/{postgres.Database})";
        }
    }

    /// <summary>Configures EF Core for this database (snake_case names on both).</summary>
    public void Configure(DbContextOptionsBuilder options) =>
        (Provider == DatabaseProvider.Postgres ? options.UseNpgsql(ConnectionString) : options.UseSqlite(ConnectionString))
            .UseSnakeCaseNamingConvention();

    /// <summary>SQLite keeps no time zone: every timestamp is read back as the UTC it was written as.</summary>
    internal static void ConfigureSqliteConventions(ModelConfigurationBuilder conventions) =>
        conventions.Properties<DateTime>().HaveConversion<UtcConverter>();

    /// <summary>Applies the migrations to PostgreSQL, or creates the SQLite schema (and turns on WAL).</summary>
    /// <exception cref="InvalidOperationException">A SQLite file made by another schema version.</exception>
    public static async Task PrepareAsync(JobsDbContext db, CancellationToken cancellationToken = default)
    {
        if (!db.Database.IsSqlite())
        {
            await db.Database.MigrateAsync(cancellationToken);
            return;
        }
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
        // WAL: readers never wait for the writer, and the writer never waits for readers. It is a property of the file.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => v.ToUniversalTime(), v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
