using System.Net.Http.Json;
using System.Text;
using FlightDelay.Worker;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The distributed system under test: the real API (in-process test server) and real Worker hosts, against a
/// real PostgreSQL (a fresh database per pipeline) and a real RabbitMQ (a fresh queue per pipeline).
/// Timings are short so that lease expiry and re-dispatch happen within a test.
/// </summary>
public sealed class Pipeline : IAsyncDisposable
{
    private readonly List<WebApplication> _workers = [];
    private readonly Dictionary<string, string?> _settings;
    private readonly string _adminConnection;
    private readonly string _database;

    private Pipeline(string adminConnection, string database, Dictionary<string, string?> settings)
    {
        _adminConnection = adminConnection;
        _database = database;
        _settings = settings;
        Factory = new ApiFactory();
        foreach (var (key, value) in settings) Factory.With(key, value);
        Api = Factory.CreateClient();
    }

    public ApiFactory Factory { get; }

    public HttpClient Api { get; }

    public string ConnectionString => _settings["ConnectionStrings:Postgres"]!;

    public IReadOnlyList<WebApplication> Workers => _workers;

    public static async Task<Pipeline> StartAsync(int workers = 2, IDictionary<string, string?>? settings = null)
    {
        var admin = await TestServices.PostgresAsync();
        var (database, connectionString) = await TestDatabases.CreateAsync(admin, "fd_test");

        var all = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:MassTransit"] = "Error",
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = await TestServices.RabbitMqAsync(),
            ["Database:MigrateOnStart"] = "true",
            ["Jobs:QueueName"] = $"score-chunk-{database}",
            ["Jobs:ChunkSize"] = "500",
            ["Jobs:ConcurrentChunks"] = "1",
            ["Jobs:LeaseDuration"] = "00:00:03",
            ["Jobs:StallTimeout"] = "00:00:02",
            ["Jobs:SweepInterval"] = "00:00:00.250",
            ["Jobs:MaxAttempts"] = "3",
            ["Jobs:RetryBackoff"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) all[key] = value;

        var pipeline = new Pipeline(admin, database, all);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await pipeline.Api.GetAsync("/health/live")).StatusCode); // starts the API, migrates
        for (var i = 0; i < workers; i++) await pipeline.StartWorkerAsync();
        return pipeline;
    }

    public async Task<WebApplication> StartWorkerAsync(IDictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>(_settings) { ["Database:MigrateOnStart"] = "false" };
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        var worker = WorkerApp.Build([], b => b.Configuration.AddInMemoryCollection(settings));
        await worker.StartAsync();
        _workers.Add(worker);
        return worker;
    }

    public async Task StopWorkerAsync(WebApplication worker)
    {
        await worker.StopAsync();
        await worker.DisposeAsync();
        _workers.Remove(worker);
    }

    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters) =>
        Convert.ToInt64(await TestDatabases.ScalarAsync(ConnectionString, sql, parameters), System.Globalization.CultureInfo.InvariantCulture);

    public Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters) =>
        TestDatabases.ExecuteAsync(ConnectionString, sql, parameters);

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers.ToList()) await StopWorkerAsync(worker);
        Api.Dispose();
        await Factory.DisposeAsync();
        await TestDatabases.DropAsync(_adminConnection, _database);
    }
}
