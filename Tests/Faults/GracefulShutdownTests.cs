using System.Diagnostics;
using System.Globalization;
using System.Net;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;
using Xunit.Abstractions;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// SIGTERM, as an orchestrator stops a pod, to a worker in the middle of a chunk and to the API in the middle of an
/// upload: the worker finishes or hands back its chunk before it exits, so the job loses no time to a lease expiry,
/// and the API finishes the upload it was reading. Processes of ours on the suite's PostgreSQL and RabbitMQ. The
/// figures go to the test output and <c>fault-recovery.txt</c>.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class GracefulShutdownTests(ITestOutputHelper output)
{
    /// <summary>Longer than the job needs by far: a chunk left to its lease would show as a job ending after it.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    /// <summary>The hosts' own shutdown timeout is 30 s; Kubernetes' default grace period is 30 s too.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_worker_stopped_mid_chunk_finishes_or_hands_back_its_chunk_and_the_job_loses_no_time_to_the_lease()
    {
        var admin = await TestServices.PostgresAsync();
        var (database, connectionString) = await TestDatabases.CreateAsync(admin, "fd_sigterm");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = await TestServices.RabbitMqAsync(),
            ["Jobs:QueueName"] = $"score-chunk-{database}",
            ["Jobs:ChunkSize"] = "100000",
            ["Jobs:ConcurrentChunks"] = "1",
            ["Jobs:ExpressRows"] = "0",
            ["Jobs:LeaseDuration"] = Lease.ToString("c", CultureInfo.InvariantCulture),
            ["Jobs:StallTimeout"] = Lease.ToString("c", CultureInfo.InvariantCulture),
            // FastTree: a 100,000-row chunk takes seconds to score, so the signal lands while one is leased.
            ["Model:Directory"] = AlternativeModel.Path,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        var processes = new List<ChildProcess>();
        try
        {
            var api = Started(ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>(settings) { ["Database:MigrateOnStart"] = "true" }, "sigterm-api"), processes);
            using var http = new HttpClient { BaseAddress = new Uri(api.BaseAddress) };
            await api.WaitReadyAsync(Deadline);
            const int rows = 300_000;
            var id = await http.SubmitAsync(JobApi.Csv(JobApi.Flights(rows, seed: 17)));

            var first = Started(ChildProcess.Start("FlightDelay.Worker.dll", settings, "sigterm-worker-1"), processes);
            var leased = await Poll.UntilAsync(() => TestDatabases.ScalarAsync(connectionString,
                    "SELECT chunk_index FROM job_chunks WHERE job_id = @id AND status = 'Leased' LIMIT 1", ("id", id)),
                chunk => chunk is int, Deadline, "the first worker to lease a chunk");
            var expires = (DateTime)(await TestDatabases.ScalarAsync(connectionString,
                "SELECT lease_expires_at FROM job_chunks WHERE job_id = @id AND chunk_index = @chunk", ("id", id), ("chunk", leased!)))!;

            var stopping = Stopwatch.StartNew();
            var signalled = DateTime.UtcNow;
            first.Terminate();
            Assert.Equal(0, await first.WaitForExitAsync(Grace));
            var exited = stopping.Elapsed;
            // Finished and stored, or handed back: never left leased for its lease to run out.
            var status = (string)(await TestDatabases.ScalarAsync(connectionString,
                "SELECT status FROM job_chunks WHERE job_id = @id AND chunk_index = @chunk", ("id", id), ("chunk", leased!)))!;
            Assert.Contains(status, new[] { "Done", "Pending" });

            Started(ChildProcess.Start("FlightDelay.Worker.dll", settings, "sigterm-worker-2"), processes);
            await http.WaitForStatusAsync(id, "succeeded", Deadline);
            var finished = (DateTime)(await TestDatabases.ScalarAsync(connectionString, "SELECT finished_at FROM jobs WHERE id = @id", ("id", id)))!;
            Assert.True(finished < expires, $"the job finished at {finished:O}, after the stopped worker's lease ran out at {expires:O}");
            await StoredResults.AssertExactlyOnePerRowAsync(connectionString, id, rows);

            var line = FormattableString.Invariant(
                $"SIGTERM to a worker holding chunk {leased} of 3 (100,000 FastTree rows): exited 0 after {exited.TotalSeconds:F1} s (grace {Grace.TotalSeconds} s) with the chunk {(status == "Done" ? "finished" : "handed back")}; job succeeded {(finished - signalled).TotalSeconds:F1} s after the signal, {(expires - finished).TotalSeconds:F0} s before the lease would have run out; {rows} results, one per row");
            output.WriteLine(line);
            File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "fault-recovery.txt"), $"{DateTime.UtcNow:O} {line}\n");
        }
        finally
        {
            foreach (var process in processes) await process.DisposeAsync();
            await TestDatabases.DropAsync(admin, database);
        }
    }

    [Fact]
    public async Task The_api_stopped_mid_upload_finishes_reading_it_and_answers_before_it_exits()
    {
        var admin = await TestServices.PostgresAsync();
        var (database, connectionString) = await TestDatabases.CreateAsync(admin, "fd_sigterm_api");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = await TestServices.RabbitMqAsync(),
            ["Jobs:QueueName"] = $"score-chunk-{database}",
            ["Database:MigrateOnStart"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
            // Chunks smaller than the upload's head, so the job is recorded while the rest is held back.
            ["Jobs:ChunkSize"] = "500",
        };
        await using var api = ChildProcess.Start("FlightDelay.Api.dll", settings, "sigterm-api-upload");
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(api.BaseAddress) };
            await api.WaitReadyAsync(Deadline);
            var flights = JobApi.Csv(JobApi.Flights(2_000, seed: 19)).Split('\n');
            var upload = new GatedContent(string.Join('\n', flights[..1_000]) + "\n", string.Join('\n', flights[1_000..]));
            var sent = http.PostAsync("/v1/jobs", upload);
            // The head is in: the upload's job is recorded, receiving (when its first full chunk was staged).
            await Poll.UntilAsync(() => TestDatabases.ScalarAsync(connectionString, "SELECT count(*) FROM jobs"), n => n is long c && c == 1, Deadline, "the upload to begin");

            var stopping = Stopwatch.StartNew();
            api.Terminate();
            // Stopping: it takes no new connection, or refuses the request, while the one in flight goes on.
            await Poll.UntilAsync(async () =>
            {
                try
                {
                    using var probe = new HttpClient { BaseAddress = new Uri(api.BaseAddress), Timeout = TimeSpan.FromSeconds(2) };
                    return (await probe.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return true;
                }
            }, stopped => stopped, Deadline, "the API to stop taking requests");
            upload.Release();
            var response = await sent;
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(0, await api.WaitForExitAsync(Grace));
            Assert.Equal(2_000, await TestDatabases.ScalarAsync(connectionString, "SELECT total_rows FROM jobs"));
            Assert.Equal("Queued", await TestDatabases.ScalarAsync(connectionString, "SELECT status FROM jobs"));

            var line = FormattableString.Invariant($"SIGTERM to the API mid-upload: the upload finished (202, 2,000 rows queued) and the API exited 0 {stopping.Elapsed.TotalSeconds:F1} s after the signal");
            output.WriteLine(line);
            File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "fault-recovery.txt"), $"{DateTime.UtcNow:O} {line}\n");
        }
        finally
        {
            await TestDatabases.DropAsync(admin, database);
        }
    }

    private static ChildProcess Started(ChildProcess process, List<ChildProcess> all)
    {
        all.Add(process);
        return process;
    }
}
