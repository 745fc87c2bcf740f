using System.Net;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// <c>Jobs:QueueType=quorum</c> declares the chunk queue as a quorum queue and jobs still run through it. (On one node here;
/// <see cref="QuorumClusterTests"/> kills the queue's leader on a three-node cluster.)
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class QuorumQueueTests(ChaosServices services) : IClassFixture<ChaosServices>
{
    [Fact]
    public async Task The_chunk_queue_is_a_quorum_queue_when_asked_and_jobs_run_through_it()
    {
        var (database, connectionString) = await TestDatabases.CreateAsync(services.Postgres, "fd_quorum");
        var queue = $"score-chunk-{database}";
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = services.RabbitMq,
            ["Jobs:QueueName"] = queue,
            ["Jobs:QueueType"] = "quorum",
            ["Jobs:ChunkSize"] = "1000",
        };
        try
        {
            await using var api = ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>(settings) { ["Database:MigrateOnStart"] = "true" }, "quorum-api");
            await using var worker = ChildProcess.Start("FlightDelay.Worker.dll", settings, "quorum-worker");
            using var http = new HttpClient { BaseAddress = new Uri(api.BaseAddress) };
            await api.WaitReadyAsync(TimeSpan.FromMinutes(2));
            var types = await Poll.UntilAsync(() => services.RunAsync("ctl", "list_queues", "-q", "name", "type"), t => t.Contains(queue, StringComparison.Ordinal),
                TimeSpan.FromMinutes(1), "the worker to declare its queue");
            Assert.Contains($"{queue}\tquorum", types, StringComparison.Ordinal);

            var id = await http.SubmitAsync(JobApi.Csv(JobApi.Flights(5000)));
            await http.WaitForStatusAsync(id, "succeeded");
            await StoredResults.AssertExactlyOnePerRowAsync(connectionString, id, 5000);
        }
        finally
        {
            await TestDatabases.DropAsync(services.Postgres, database);
        }
    }
}
