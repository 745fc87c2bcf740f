using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Contracts;
using FlightDelay.Scoring;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;
using MassTransit;
using Xunit.Abstractions;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// Faults survived, with the real processes: the API and two workers as child processes, PostgreSQL and RabbitMQ as
/// local processes of the suite's own. Each run pushes a 300,000-row job through one fault and checks that it still
/// succeeds within a bounded time with exactly one result per row, equal to the model's own answers.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class FaultInjectionTests(FaultServices services, ITestOutputHelper output) : IClassFixture<FaultServices>
{
    private const int Rows = 300_000;
    private static readonly TimeSpan Recovery = TimeSpan.FromMinutes(3);
    private static readonly (string Airline, string FlightType, int Month)[] Flights = JobApi.Flights(Rows, seed: 11);
    private static readonly string Csv = JobApi.Csv(Flights);
    private static readonly Lazy<Prediction[]> Expected = new(() =>
    {
        var model = FlightModel.Load(TestFiles.ShippedModel);
        var features = new float[Rows * FlightSchema.FeatureCount];
        for (var i = 0; i < Rows; i++)
            FlightSchema.TryEncode(Flights[i].Airline, Flights[i].FlightType, Flights[i].Month, features.AsSpan(i * 37, 37));
        var predictions = new Prediction[Rows];
        model.PredictBatch(features, predictions);
        return predictions;
    });

    [Fact]
    public async Task A_worker_killed_while_holding_chunks_leaves_them_to_the_other()
    {
        await using var run = await StartAsync();
        // Chunks are scored while the upload streams: the fault strikes as soon as the victim holds one, upload or not.
        var submitted = run.SubmitAsync();
        var victim = run.Workers[0];
        await Poll.UntilAsync(() => run.ScalarAsync($"SELECT count(*) FROM job_chunks WHERE status = 'Leased' AND worker_id LIKE '%/{victim.Id}/%'", Guid.Empty),
            n => n > 0, Recovery, "the first worker to hold a chunk");

        victim.Kill();
        var faultEnded = Stopwatch.StartNew();
        var id = await submitted;
        var processed = await run.ProcessedAsync(id);

        await run.WaitForSuccessAsync(id);
        Report("worker SIGKILL", processed, faultEnded.Elapsed);
        await run.VerifyAsync(id);
    }

    [Fact]
    public async Task A_broker_restart_mid_job_loses_nothing_while_sync_predictions_go_on()
    {
        // Queued whole before the workers start: scored during its upload, it could end before the fault strikes.
        await using var run = await StartAsync(workers: 0);
        var id = await run.SubmitAsync();
        for (var i = 0; i < 2; i++) await run.StartWorkerAsync();
        var processed = await run.WaitForProgressAsync(id);

        await services.RunAsync("stop-rabbitmq");
        try
        {
            await AssertServesWithout(run, "rabbitmq");
        }
        finally
        {
            await services.RunAsync("start-rabbitmq");
        }
        var faultEnded = Stopwatch.StartNew();

        await run.WaitForSuccessAsync(id);
        Report("RabbitMQ stop + restart", processed, faultEnded.Elapsed);
        await run.VerifyAsync(id);
    }

    [Fact]
    public async Task A_database_restart_mid_job_loses_nothing_while_sync_predictions_go_on()
    {
        // Queued whole before the workers start: scored during its upload, it could end before the fault strikes.
        await using var run = await StartAsync(workers: 0);
        var id = await run.SubmitAsync();
        for (var i = 0; i < 2; i++) await run.StartWorkerAsync();
        var processed = await run.WaitForProgressAsync(id);

        await services.RunAsync("stop-postgres");
        try
        {
            await AssertServesWithout(run, "database");
        }
        finally
        {
            await services.RunAsync("start-postgres");
        }
        var faultEnded = Stopwatch.StartNew();

        await run.WaitForSuccessAsync(id);
        Report("PostgreSQL stop + restart", processed, faultEnded.Elapsed);
        await run.VerifyAsync(id);
    }

    [Fact]
    public async Task The_api_killed_right_after_answering_202_and_started_again_loses_nothing()
    {
        await using var run = await StartAsync();
        var id = await run.SubmitAsync();
        run.Api.Kill();
        await run.RestartApiAsync();
        var faultEnded = Stopwatch.StartNew();

        await run.WaitForSuccessAsync(id);
        Report("API SIGKILL after 202", 0, faultEnded.Elapsed);
        await run.VerifyAsync(id);
    }

    [Fact]
    public async Task Every_chunk_command_delivered_twice_writes_no_second_result()
    {
        await using var run = await StartAsync();
        var id = await run.SubmitAsync();
        var chunks = (int)await run.ScalarAsync("SELECT chunk_count FROM jobs WHERE id = @id", id);
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit => rabbit.Host(new Uri(services.RabbitMq)));
        await bus.StartAsync();
        try
        {
            var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{run.QueueName}"));
            await endpoint.SendBatch(Enumerable.Range(0, chunks).Select(i => new ScoreChunk(id, i)));
            var faultEnded = Stopwatch.StartNew();
            await run.WaitForSuccessAsync(id);
            await endpoint.SendBatch(Enumerable.Range(0, chunks).Select(i => new ScoreChunk(id, i)));
            Report("every chunk command sent twice more", 0, faultEnded.Elapsed);
        }
        finally
        {
            await bus.StopAsync();
        }

        await Poll.UntilAsync(() => services.QueueDepthAsync(run.QueueName), depth => depth == 0, Recovery, "the duplicates to be consumed");
        await run.VerifyAsync(id);
        Assert.Equal(chunks, await run.ScalarAsync("SELECT sum(attempts) FROM job_chunks WHERE job_id = @id", id));
    }

    /// <summary>With a dependency down, the API still answers liveness and sync predictions, and readiness names what is missing.</summary>
    private static async Task AssertServesWithout(PipelineRun run, string dependency)
    {
        var ready = await Poll.UntilAsync(() => run.Http.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.ServiceUnavailable, Recovery, $"ready to report {dependency} down");
        var report = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Unhealthy", report.GetProperty("checks").GetProperty(dependency).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await run.Http.GetAsync("/health/live")).StatusCode);
        var seed = JsonSerializer.Serialize(new { data = TestFiles.Encode("Grupo LATAM", "I", 7) });
        for (var i = 0; i < 20; i++)
        {
            var response = await run.Http.PostAsync("/predict_api", new StringContent(seed, Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private void Report(string fault, long processedAtFault, TimeSpan recovery)
    {
        var line = FormattableString.Invariant($"{fault}: rows done when it struck {processedAtFault}/{Rows}; succeeded {recovery.TotalSeconds:F1} s after the fault ended");
        output.WriteLine(line);
        File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "fault-recovery.txt"), $"{DateTime.UtcNow:O} {line}\n");
    }

    private async Task<PipelineRun> StartAsync(int workers = 2)
    {
        var (database, connectionString) = await TestDatabases.CreateAsync(services.Postgres, "fd_fault");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = services.RabbitMq,
            ["Jobs:QueueName"] = $"score-chunk-{database}",
            ["Jobs:ChunkSize"] = "1000",
            ["Jobs:ConcurrentChunks"] = "1",
            ["Jobs:LeaseDuration"] = "00:00:05",
            ["Jobs:StallTimeout"] = "00:00:05",
            ["Jobs:SweepInterval"] = "00:00:01",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var run = new PipelineRun(settings, database, services.Postgres);
        await run.RestartApiAsync();
        for (var i = 0; i < workers; i++) await run.StartWorkerAsync();
        return run;
    }

    /// <summary>One fault run: its database, queue, API process and worker processes.</summary>
    private sealed class PipelineRun(Dictionary<string, string> settings, string database, string admin) : IAsyncDisposable
    {
        public ChildProcess Api { get; private set; } = null!;

        public List<ChildProcess> Workers { get; } = [];

        public HttpClient Http { get; private set; } = null!;

        public string QueueName => settings["Jobs:QueueName"];

        private readonly List<ChildProcess> _all = [];

        public async Task RestartApiAsync()
        {
            Http?.Dispose();
            Api = ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>(settings) { ["Database:MigrateOnStart"] = "true" }, "api");
            _all.Add(Api);
            Http = new HttpClient { BaseAddress = new Uri(Api.BaseAddress), Timeout = TimeSpan.FromSeconds(30) };
            await Api.WaitReadyAsync(Recovery);
        }

        public async Task StartWorkerAsync()
        {
            var worker = ChildProcess.Start("FlightDelay.Worker.dll", settings, "worker");
            Workers.Add(worker);
            _all.Add(worker);
            await worker.WaitReadyAsync(Recovery);
        }

        public async Task<Guid> SubmitAsync() => await Http.SubmitAsync(Csv);

        public async Task<long> ProcessedAsync(Guid id) => (await Http.GetJobAsync(id)).GetProperty("processedRows").GetInt32();

        public async Task<long> WaitForProgressAsync(Guid id)
        {
            var job = await Poll.UntilAsync(() => Http.GetJobAsync(id), j => j.GetProperty("processedRows").GetInt32() > 0, Recovery, "the job to start");
            var processed = job.GetProperty("processedRows").GetInt32();
            Assert.True(processed < Rows, "the job finished before the fault could strike; make it bigger");
            return processed;
        }

        public async Task WaitForSuccessAsync(Guid id)
        {
            // Through the API when it answers; the database is the source of truth either way.
            var status = await Poll.UntilAsync(async () =>
            {
                try { return (await Http.GetJobAsync(id)).GetProperty("status").GetString(); }
                catch (HttpRequestException) { return "unreachable"; }
            }, s => s is "succeeded" or "failed" or "canceled", Recovery, $"job {id} to finish");
            Assert.Equal("succeeded", status);
        }

        public async Task<long> ScalarAsync(string sql, Guid id) =>
            Convert.ToInt64(await TestDatabases.ScalarAsync(settings["ConnectionStrings:Postgres"]!, sql, ("id", id)), System.Globalization.CultureInfo.InvariantCulture);

        /// <summary>Exactly one result per row, each equal to what the model says of that row.</summary>
        public async Task VerifyAsync(Guid id)
        {
            var stored = await StoredResults.AssertExactlyOnePerRowAsync(settings["ConnectionStrings:Postgres"]!, id, Rows);
            var expected = Expected.Value;
            foreach (var result in stored)
            {
                Assert.Equal(expected[result.Number - 1].Delayed, result.Delayed);
                Assert.Equal(expected[result.Number - 1].Probability, result.Probability, 6);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Http?.Dispose();
            foreach (var process in _all) await process.DisposeAsync();
            await TestDatabases.DropAsync(admin, database);
        }
    }
}
