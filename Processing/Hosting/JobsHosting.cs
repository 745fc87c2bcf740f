using FlightDelay.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlightDelay.Processing.Hosting;

/// <summary>How the job system is deployed, named once, from the connection strings.</summary>
public enum HostingMode
{
    /// <summary>
    /// No broker: MassTransit's in-memory transport, the chunk consumers and sweeps in the API's own process, and the
    /// jobs database in a SQLite file (or PostgreSQL, when <c>ConnectionStrings:Postgres</c> is set). The default.
    /// </summary>
    Embedded,

    /// <summary>RabbitMQ (<c>ConnectionStrings:RabbitMq</c>) and PostgreSQL: the API sends, any number of Worker processes consume.</summary>
    Distributed,
}

/// <summary>
/// The one place that reads <c>ConnectionStrings:*</c> and decides the <see cref="HostingMode"/>. RabbitMQ requires
/// PostgreSQL (workers in other processes cannot share a SQLite file). Logged at start and reported by
/// <c>/health/ready</c> under <c>hosting</c>.
/// </summary>
/// <param name="Mode">Embedded or Distributed.</param>
/// <param name="Database">The jobs database: provider and connection string.</param>
/// <param name="RabbitMq">The broker's <c>amqp://</c> or <c>amqps://</c> URI; null when embedded.</param>
public sealed record JobsHosting(HostingMode Mode, JobsDatabase Database, Uri? RabbitMq)
{
    /// <summary>Reads the mode from <c>ConnectionStrings:Postgres</c>, <c>:Sqlite</c> and <c>:RabbitMq</c>.</summary>
    /// <exception cref="InvalidOperationException">RabbitMQ without PostgreSQL, or a RabbitMQ value that is not an AMQP URI.</exception>
    public static JobsHosting From(IConfiguration configuration)
    {
        var postgres = configuration.GetConnectionString("Postgres");
        var rabbit = configuration.GetConnectionString("RabbitMq");
        var database = string.IsNullOrWhiteSpace(postgres)
            ? JobsDatabase.Sqlite(configuration.GetConnectionString("Sqlite"))
            : JobsDatabase.Postgres(postgres);
        // An example value left in a Secret would otherwise surface later as an authentication failure, or not at all.
        foreach (var (name, value) in new[] { ("Postgres", postgres), ("RabbitMq", rabbit) })
        {
            if (Placeholders.Contains(value))
                throw new InvalidOperationException($"ConnectionStrings:{name} still holds the example placeholder {Placeholders.Marker}: set the real credentials.");
        }
        var sweepsInApi = configuration.GetValue("Jobs:SweepsInApi", false);
        if (string.IsNullOrWhiteSpace(rabbit))
            return new JobsHosting(HostingMode.Embedded, database, null) { SweepsInApi = sweepsInApi };

        if (database.Provider != DatabaseProvider.Postgres)
            throw new InvalidOperationException(
                "ConnectionStrings:RabbitMq is set but ConnectionStrings:Postgres is not: workers in other processes cannot share the embedded SQLite file. Set both (distributed), or neither (embedded).");
        if (!Uri.TryCreate(rabbit, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
            throw new InvalidOperationException("ConnectionStrings:RabbitMq must be an amqp:// or amqps:// URI, for example amqp://user:password@host:5672/.");
        return new JobsHosting(HostingMode.Distributed, database, uri) { SweepsInApi = sweepsInApi };
    }

    /// <summary>
    /// <c>Jobs:SweepsInApi</c>: a distributed API also runs the sweeps that need no scoring (retention and abandoned
    /// uploads, callback delivery, re-sending lost chunk commands, the job-state gauges), so they go on while the
    /// workers are scaled to zero. Every sweep claims its work in the database, so any number of hosts may run them.
    /// </summary>
    public bool SweepsInApi { get; init; }

    /// <summary>Whether this process runs the chunk consumers and sweeps: always in a worker, in the API only when embedded.</summary>
    public bool ConsumersInApi => Mode == HostingMode.Embedded;

    /// <summary>"Embedded: in-memory transport, SQLite (flightdelay.db)": no credentials, for logs and health.</summary>
    public string Description => Mode == HostingMode.Embedded
        ? $"Embedded: in-memory transport, consumers in this process, {Database.Description}"
        : $"Distributed: RabbitMQ at {RabbitMq!.Host}:{(RabbitMq.IsDefaultPort || RabbitMq.Port <= 0 ? (RabbitMq.Scheme == "amqps" ? 5671 : 5672) : RabbitMq.Port)}, {Database.Description}";

    /// <summary>A readiness entry that always answers Healthy, naming the mode, so an operator sees it in <c>/health/ready</c>.</summary>
    internal sealed class HealthCheck(JobsHosting hosting) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy(hosting.Description, new Dictionary<string, object> { ["mode"] = hosting.Mode.ToString() }));
    }
}
