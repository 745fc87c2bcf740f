using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using MassTransit;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace FlightDelay.Tests.Lifecycle;

/// <summary>
/// The fast tier's host: the real job store (<c>AddJobStore</c>: SQLite file, model, lifecycle) on a clock the test
/// moves, and the real chunk consumer on MassTransit's test harness. No PostgreSQL, no RabbitMQ.
/// </summary>
public sealed class LifecycleHost : IAsyncDisposable
{
    public const int ChunkSize = 100;

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"flightdelay-fast-{Guid.NewGuid():N}.db");
    private readonly IHost _host;

    private LifecycleHost(IDictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["ConnectionStrings:Sqlite"] = $"Data Source={_file}",
            ["Jobs:ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs:MaxAttempts"] = "5",
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<TimeProvider>(Clock);
        builder.AddJobStore();
        builder.Services.AddSingleton<WorkerIdentity>();
        builder.Services.AddScoped<ChunkProcessor>();
        builder.Services.AddSingleton<ChunkDispatcher>();
        builder.Services.AddMassTransitTestHarness(bus => bus.AddConsumer<ScoreChunkConsumer, ScoreChunkConsumerDefinition>());
        _host = builder.Build();
    }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    public IServiceProvider Services => _host.Services;

    public MassTransit.Testing.ITestHarness Harness => _host.Services.GetRequiredService<MassTransit.Testing.ITestHarness>();

    public static async Task<LifecycleHost> StartAsync(IDictionary<string, string?>? settings = null)
    {
        var host = new LifecycleHost(settings ?? new Dictionary<string, string?>());
        await host._host.StartAsync();
        return host;
    }

    /// <summary>Runs <paramref name="work"/> with a lifecycle of its own scope, as each request or message gets.</summary>
    public async Task<T> WithLifecycleAsync<T>(Func<JobLifecycle, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<JobLifecycle>());
    }

    /// <summary>
    /// A job accepted as the intake does it: begun, <paramref name="chunks"/> chunks of <paramref name="chunkRows"/> named
    /// flights staged (sent, or held for the window when not <paramref name="dispatched"/>), accepted.
    /// </summary>
    public async Task<Job> SubmitAsync(int chunks, string? key = null, bool dispatched = true, JobPriority priority = JobPriority.Normal, int chunkRows = ChunkSize)
    {
        var flights = JobApi.Flights(chunks * chunkRows);
        return await WithLifecycleAsync(async lifecycle =>
        {
            var job = (await lifecycle.BeginIntakeAsync(lifecycle.NewJob("", key, null, null, priority, null), CancellationToken.None)).Job;
            for (var i = 0; i < chunks; i++)
            {
                var features = flights.Skip(i * chunkRows).Take(chunkRows).SelectMany(f => TestFiles.Encode(f.Airline, f.FlightType, f.Month)).ToArray();
                Assert.True(await lifecycle.StageChunkAsync(job, i, i * chunkRows + 1, chunkRows, FeatureBytes.Encode(features), null, null, [], dispatched, CancellationToken.None));
            }
            Assert.Equal(AcceptResult.Accepted, (await lifecycle.AcceptAsync(job, chunks * chunkRows, 0, chunks, "hash", null, CancellationToken.None)).Result);
            return job;
        });
    }

    public Task<JobChunk> ChunkAsync(Guid jobId, int index) => QueryAsync(db => db.Chunks.AsNoTracking().SingleAsync(c => c.JobId == jobId && c.ChunkIndex == index));

    public Task<Job?> JobAsync(Guid jobId) => QueryAsync(db => db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId));

    public Task<int> ResultCountAsync(Guid jobId) => QueryAsync(db => db.ChunkResults.CountAsync(r => r.JobId == jobId));

    public async Task<T> QueryAsync<T>(Func<JobsDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<JobsDbContext>());
    }

    /// <summary>Sends a chunk command through the harness's bus and waits until the consumer has handled it.</summary>
    public async Task DeliverAsync(Guid jobId, int chunk)
    {
        var before = Harness.Consumed.Select<ScoreChunk>().Count(m => m.Context.Message.JobId == jobId && m.Context.Message.ChunkIndex == chunk);
        await Harness.Bus.Publish(new ScoreChunk(jobId, chunk));
        await Poll.UntilAsync(() => Task.FromResult(Harness.Consumed.Select<ScoreChunk>().Count(m => m.Context.Message.JobId == jobId && m.Context.Message.ChunkIndex == chunk)),
            n => n > before, JobApi.Deadline, $"chunk {chunk} of job {jobId} to be consumed");
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_file) + "*"))
            File.Delete(file);
    }
}
