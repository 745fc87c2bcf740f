using System.Text.RegularExpressions;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FlightDelay.Tests.Lifecycle;

/// <summary>
/// What lets KEDA take the workers to zero and back (docs/deploy.md, "Scale to zero and back"): the ScaledObject's
/// PostgreSQL query counts only the work of active jobs, and a distributed API runs the sweeps when told to.
/// </summary>
public sealed partial class ScaleToZeroTests
{
    [Fact]
    public async Task Keda_query_counts_only_unfinished_chunks_of_jobs_being_scored()
    {
        var admin = await TestServices.PostgresAsync();
        var (name, connection) = await TestDatabases.CreateAsync(admin, "flightdelay_keda");
        try
        {
            var services = new ServiceCollection().AddLogging();
            services.AddJobsDatabase(JobsDatabase.Postgres(connection));
            await using (var provider = services.BuildServiceProvider())
            await using (var scope = provider.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
                await db.PrepareAsync();
                var now = DateTime.UtcNow;
                // Two pending and one leased chunk per job, and one done; only Receiving, Queued and Running jobs' count.
                foreach (var status in Enum.GetValues<JobStatus>())
                {
                    var job = new Job { Id = Guid.NewGuid(), Status = status, CreatedAt = now, Owner = "keda", TotalRows = 40, ChunkSize = 10, ChunkCount = 4 };
                    db.Jobs.Add(job);
                    foreach (var (index, chunk) in new[] { ChunkStatus.Pending, ChunkStatus.Pending, ChunkStatus.Leased, ChunkStatus.Done }.Index())
                        db.Chunks.Add(new JobChunk { JobId = job.Id, ChunkIndex = index, FirstRow = index * 10, RowCount = 10, Status = chunk, DispatchedAt = now });
                }
                await db.SaveChangesAsync();
            }

            var counted = await TestDatabases.ScalarAsync(connection, KedaQuery());

            Assert.Equal(3L * 3, Convert.ToInt64(counted, System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            await TestDatabases.DropAsync(admin, name);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_distributed_api_runs_the_sweeps_only_when_told_to(bool sweepsInApi)
    {
        await using var factory = new ApiFactory()
            .With("ConnectionStrings:Postgres", await TestServices.PostgresAsync())
            .With("ConnectionStrings:RabbitMq", await TestServices.RabbitMqAsync())
            .With("Jobs:QueueName", $"sweeps-in-api-{Guid.NewGuid():N}")
            .With("Jobs:SweepsInApi", sweepsInApi ? "true" : "false");
        _ = factory.CreateClient();

        var hosted = factory.Services.GetServices<IHostedService>().Select(s => s.GetType()).ToList();

        foreach (var sweep in new[] { typeof(JobRetentionService), typeof(CallbackDispatcher), typeof(StalledChunkDispatcher), typeof(JobStateSweep) })
            Assert.Equal(sweepsInApi, hosted.Contains(sweep));
    }

    /// <summary>The query of deploy/base/worker-scaledobject.yaml's postgresql trigger, as KEDA runs it.</summary>
    private static string KedaQuery()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "deploy", "base", "worker-scaledobject.yaml")))
            directory = directory.Parent;
        Assert.NotNull(directory);
        var yaml = File.ReadAllText(Path.Combine(directory.FullName, "deploy", "base", "worker-scaledobject.yaml"));
        // A folded block scalar (query: >-): its lines joined by spaces.
        var match = FoldedQuery().Match(yaml);
        Assert.True(match.Success, "no `query: >-` block in worker-scaledobject.yaml");
        return string.Join(' ', match.Groups["lines"].Captures.Select(c => c.Value.Trim()));
    }

    [GeneratedRegex(@"query: >-\r?\n(?:(?<lines> {10}\S[^\n]*)\r?\n)+")]
    private static partial Regex FoldedQuery();
}
