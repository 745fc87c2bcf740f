using System.Diagnostics;
using System.Globalization;
using System.Net;
using FlightDelay.Scoring;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;
using Xunit.Abstractions;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// The fault suite's PostgreSQL and a three-node RabbitMQ cluster on loopback (<c>scripts/local-services.sh
/// start-cluster</c>): state in <c>{tmp}/flightdelay-cluster</c>, node N's AMQP port 58672 + 20 × (N − 1). All three
/// nodes and PostgreSQL are stopped at the end, whichever were killed.
/// </summary>
public sealed class ClusterServices() : FaultServices("flightdelay-cluster", 58000)
{
    /// <summary>Ports between one node's and the next's (local-services.sh's RMQ_PORT_STEP).</summary>
    private const int PortStep = 20;

    public override Task InitializeAsync() => RunAsync("start-cluster");

    /// <summary>Node <paramref name="n"/>'s (1..3) AMQP listener as <c>host:port</c>, the form <c>Jobs:BrokerNodes</c> takes.</summary>
    public string Node(int n) => $"127.0.0.1:{NodePort(n)}";

    private int NodePort(int n) => new Uri(RabbitMq).Port + PortStep * (n - 1);

    /// <summary>The node (1..3) that leads quorum queue <paramref name="queue"/>, as a running node says; 0 while none knows.</summary>
    public async Task<int> LeaderAsync(string queue)
    {
        try
        {
            return int.Parse((await RunAsync("queue-leader", queue)).Trim(), CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return 0; // no leader yet (an election under way), or the queue not declared yet
        }
    }

    /// <summary>Client connections per node (1..3), by the AMQP port each reaches, as node <paramref name="askNode"/> lists them.</summary>
    public async Task<int[]> ConnectionsAsync(int askNode)
    {
        var perNode = new int[4];
        var text = await RunAsync("ctl-node", askNode.ToString(CultureInfo.InvariantCulture), "list_connections", "-q", "name");
        // Names are "client-ip:port -> server-ip:port".
        foreach (var line in text.Split('\n').Where(l => l.Contains("->", StringComparison.Ordinal)))
        {
            var port = int.Parse(line[(line.LastIndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture);
            for (var n = 1; n <= 3; n++)
                if (port == NodePort(n)) perNode[n]++;
        }
        return perNode;
    }
}

/// <summary>
/// The chunk queue as a quorum queue on a three-node cluster: the node that leads it is SIGKILLed while chunks are in
/// flight, and the job still succeeds with exactly one result per row, each the model's. The API and two workers run as
/// processes that know every node (<c>ConnectionStrings:RabbitMq</c> node 1, <c>Jobs:BrokerNodes</c> nodes 2 and 3), so
/// their connections fail over, and their readiness holds while a node answers.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class QuorumClusterTests(ClusterServices services, ITestOutputHelper output) : IClassFixture<ClusterServices>
{
    private const int Rows = 300_000;
    /// <summary>Rows the workers can hold at the kill, scored without the broker: two workers, two prefetched chunks of 1000 each.</summary>
    private const int InHand = 2 * 2 * 1000;
    private static readonly TimeSpan Recovery = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Killing_the_node_that_leads_the_chunk_queue_mid_job_loses_and_duplicates_nothing()
    {
        var flights = JobApi.Flights(Rows, seed: 15);
        var (database, connectionString) = await TestDatabases.CreateAsync(services.Postgres, "fd_cluster");
        var queue = $"score-chunk-{database}";
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = services.RabbitMq,
            ["Jobs:BrokerNodes:0"] = services.Node(2),
            ["Jobs:BrokerNodes:1"] = services.Node(3),
            ["Jobs:QueueName"] = queue,
            ["Jobs:QueueType"] = "quorum",
            ["Jobs:ChunkSize"] = "1000",
            ["Jobs:ConcurrentChunks"] = "1",
            // A command whose send went down with the killed node's connection is the stall sweep's: after 15 s here,
            // not the default 2 minutes, to keep the test short.
            ["Jobs:StallTimeout"] = "00:00:15",
            ["Jobs:SweepInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var processes = new List<ChildProcess>();
        var workers = new List<HttpClient>();
        try
        {
            // migrate declares the quorum queue and binds its exchange to it, so what the API sends before any worker
            // runs is kept (the API sends to the exchange).
            var migrate = Started(ChildProcess.Start("FlightDelay.Worker.dll", settings, "cluster-migrate", args: ["migrate"]), processes);
            Assert.True(await migrate.WaitForExitAsync(Recovery) == 0, $"migrate failed: {await File.ReadAllTextAsync(migrate.LogPath)}");
            var leader = await Poll.UntilAsync(() => services.LeaderAsync(queue), n => n > 0, Recovery, $"a leader of {queue}");

            var api = Started(ChildProcess.Start("FlightDelay.Api.dll", settings, "cluster-api"), processes);
            using var http = new HttpClient { BaseAddress = new Uri(api.BaseAddress), Timeout = TimeSpan.FromSeconds(30) };
            await api.WaitReadyAsync(Recovery);
            // Queued whole before the workers start: scored during its upload, it could end before the fault strikes.
            var id = await http.SubmitAsync(JobApi.Csv(flights));
            // Both started before either is waited for, so the second does not start up while the first scores alone.
            var started = Enumerable.Range(0, 2).Select(_ => Started(ChildProcess.Start("FlightDelay.Worker.dll", settings, "cluster-worker"), processes)).ToList();
            workers.AddRange(started.Select(w => new HttpClient { BaseAddress = new Uri(w.BaseAddress) }));
            foreach (var worker in started) await worker.WaitReadyAsync(Recovery);
            var survivor = leader == 1 ? 2 : 1;
            var connectionsBefore = await services.ConnectionsAsync(survivor);
            await Poll.UntilAsync(() => ProcessedAsync(http, id), n => n > 0, Recovery, "the job to start");

            // kill-rabbitmq-node returns once the node is gone: what is done by then was done with it.
            await services.RunAsync("kill-rabbitmq-node", leader.ToString(CultureInfo.InvariantCulture));
            var sinceKill = Stopwatch.StartNew();
            var processedAtKill = await ProcessedAsync(http, id);
            Assert.True(processedAtKill + InHand < Rows, "the job (nearly) finished before the fault could strike; make it bigger");

            // Both at once: asking for the leader costs a CLI start-up (about a second), the job's progress is quicker to see.
            var election = Poll.UntilAsync(async () => (await services.LeaderAsync(queue), sinceKill.Elapsed), l => l.Item1 > 0 && l.Item1 != leader,
                Recovery, "a new leader");
            // Past what the workers could hold at the kill: chunks delivered by the new leader.
            var resumed = await Poll.UntilAsync(async () => (await ProcessedAsync(http, id), sinceKill.Elapsed),
                p => p.Item1 > processedAtKill + InHand, Recovery, "the job to progress after the kill");
            var (newLeader, elected) = await election;
            var status = await Poll.UntilAsync(async () => (await http.GetJobAsync(id)).GetProperty("status").GetString(),
                s => s is "succeeded" or "failed" or "canceled", Recovery, $"job {id} to finish");
            var succeeded = sinceKill.Elapsed;
            Assert.Equal("succeeded", status);

            // Both workers are connected again, to nodes that still run; the API and the workers say they are ready.
            var connectionsAfter = await services.ConnectionsAsync(survivor);
            Assert.True(connectionsAfter.Sum() >= 2, $"connections per node after the kill: {string.Join('/', connectionsAfter.Skip(1))}");
            foreach (var worker in workers) Assert.Equal(HttpStatusCode.OK, (await worker.GetAsync("/health/ready")).StatusCode);
            // Chunks the stall sweep sent again: those whose command went down with a send on the killed node's connection.
            double redispatched = 0;
            foreach (var worker in workers)
                redispatched += PrometheusText.Sum(await worker.GetStringAsync("/metrics"), "flightdelay_job_chunks_redispatched_total");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

            var stored = await StoredResults.AssertExactlyOnePerRowAsync(connectionString, id, Rows);
            var expected = Predict(flights);
            foreach (var result in stored)
            {
                Assert.Equal(expected[result.Number - 1].Delayed, result.Delayed);
                Assert.Equal(expected[result.Number - 1].Probability, result.Probability, 6);
            }
            var chunks = await TestDatabases.ScalarAsync(connectionString, "SELECT count(*) FROM job_chunks WHERE job_id = @id", ("id", id));
            var attempts = await TestDatabases.ScalarAsync(connectionString, "SELECT sum(attempts) FROM job_chunks WHERE job_id = @id", ("id", id));

            var line = FormattableString.Invariant(
                $"quorum leader node {leader} SIGKILLed at {processedAtKill}/{Rows} rows ({chunks} chunks of 1000); connections per node before {string.Join('/', connectionsBefore.Skip(1))}, after {string.Join('/', connectionsAfter.Skip(1))}; new leader node {newLeader} after {elected.TotalSeconds:F1} s; chunks delivered again after {resumed.Item2.TotalSeconds:F1} s; succeeded {succeeded.TotalSeconds:F1} s after the kill; {stored.Count} results, one per row; {attempts} attempts; {redispatched} chunks sent again by the stall sweep");
            output.WriteLine(line);
            File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "fault-recovery.txt"), $"{DateTime.UtcNow:O} {line}\n");
        }
        finally
        {
            foreach (var worker in workers) worker.Dispose();
            foreach (var process in processes) await process.DisposeAsync();
            await TestDatabases.DropAsync(services.Postgres, database);
        }
    }

    private static ChildProcess Started(ChildProcess process, List<ChildProcess> all)
    {
        all.Add(process);
        return process;
    }

    private static async Task<int> ProcessedAsync(HttpClient api, Guid id) => (await api.GetJobAsync(id)).GetProperty("processedRows").GetInt32();

    /// <summary>The model's own answers for the rows, in row order.</summary>
    private static Prediction[] Predict((string Airline, string FlightType, int Month)[] flights)
    {
        var model = FlightModel.Load(TestFiles.ShippedModel);
        var features = new float[flights.Length * FlightSchema.FeatureCount];
        for (var i = 0; i < flights.Length; i++)
        {
            var f = flights[i];
            FlightSchema.TryEncode(f.Airline, f.FlightType, f.Month, features.AsSpan(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount));
        }
        var predictions = new Prediction[flights.Length];
        model.PredictBatch(features, predictions);
        return predictions;
    }
}
