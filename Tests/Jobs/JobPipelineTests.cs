using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Contracts;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Jobs;

/// <summary>The job pipeline end to end: API → RabbitMQ → Worker hosts → PostgreSQL, all real.</summary>
[Collection(PipelineCollection.Name)]
public class JobPipelineTests
{
    [Fact]
    public async Task A_job_of_many_chunks_completes_with_one_result_per_row_matching_sync_predictions()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 2);
        var flights = JobApi.Flights(5_000);

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));
        var job = await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(5_000, job.GetProperty("totalRows").GetInt32());
        Assert.Equal(5_000, job.GetProperty("processedRows").GetInt32());
        Assert.Equal(10, job.GetProperty("chunkCount").GetInt32());
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.NotNull(job.GetProperty("startedAt").GetString());
        Assert.NotNull(job.GetProperty("finishedAt").GetString());
        await AssertExactlyOneResultPerRow(pipeline, id, 5_000);

        var results = await pipeline.Api.AllResultsAsync(id, pageSize: 700);
        var expected = await pipeline.Api.PredictAsync(flights);
        Assert.Equal(Enumerable.Range(1, 5_000), results.Select(r => r.GetProperty("row").GetInt32()));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Delayed, results[i].GetProperty("delayed").GetBoolean());
            Assert.Equal(expected[i].Probability, results[i].GetProperty("probability").GetSingle(), 5);
        }
        var version = job.GetProperty("modelVersion").GetString();
        Assert.All(results, r => Assert.Equal(version, r.GetProperty("modelVersion").GetString()));
    }

    [Fact]
    public async Task Two_workers_share_one_jobs_chunks()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 2);

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(20_000)));
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(2, await pipeline.ScalarAsync("SELECT count(DISTINCT worker_id) FROM job_chunks WHERE job_id = @id", ("id", id)));
        await AssertExactlyOneResultPerRow(pipeline, id, 20_000);
    }

    [Fact]
    public async Task A_command_delivered_twice_writes_no_second_result()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 1);
        using var skipped = new ChunkOutcomeCounter("skipped");

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(3_000)));
        // Every chunk's command once more while the job runs, and again after it finished.
        var commands = Enumerable.Range(0, 6).Select(i => new ScoreChunk(id, i)).ToList();
        var dispatcher = pipeline.Factory.Services.GetRequiredService<ChunkDispatcher>();
        await dispatcher.SendAsync(commands, CancellationToken.None);
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");
        await dispatcher.SendAsync(commands, CancellationToken.None);

        await Poll.UntilAsync(() => Task.FromResult(skipped.Count), n => n >= 12, JobApi.Deadline, "12 duplicate commands to be skipped");
        await AssertExactlyOneResultPerRow(pipeline, id, 3_000);
        Assert.Equal(6, await pipeline.ScalarAsync("SELECT sum(attempts) FROM job_chunks WHERE job_id = @id", ("id", id)));
    }

    [Fact]
    public async Task A_chunk_held_by_a_worker_that_died_is_finished_by_another_after_its_lease_expires()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(2_000)));
        // A worker leased chunk 1 and died: its lease stands, its command is gone.
        await pipeline.ExecuteAsync(
            "UPDATE job_chunks SET status = 'Leased', lease_token = gen_random_uuid(), worker_id = 'dead-worker', attempts = 1, lease_expires_at = now() + interval '2 seconds' WHERE job_id = @id AND chunk_index = 1",
            ("id", id));

        await pipeline.StartWorkerAsync();
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        await AssertExactlyOneResultPerRow(pipeline, id, 2_000);
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND worker_id = 'dead-worker'", ("id", id)));
    }

    [Fact]
    public async Task A_worker_stopped_mid_job_leaves_the_rest_to_another()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 1);
        var first = pipeline.Workers[0];
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(30_000)));
        await Poll.UntilAsync(() => pipeline.Api.GetJobAsync(id), j => j.GetProperty("processedRows").GetInt32() > 0, JobApi.Deadline, "the first chunks");

        await pipeline.StopWorkerAsync(first);
        var processed = (await pipeline.Api.GetJobAsync(id)).GetProperty("processedRows").GetInt32();
        await pipeline.StartWorkerAsync();
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        Assert.InRange(processed, 1, 30_000);
        await AssertExactlyOneResultPerRow(pipeline, id, 30_000);
    }

    [Fact]
    public async Task A_job_saved_but_never_published_is_dispatched_by_the_system()
    {
        // The API's broker address is wrong: it saves the job and cannot send anything, as if it died right after saving.
        await using var pipeline = await Pipeline.StartAsync(workers: 0, new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = "amqp://guest:guest@127.0.0.1:1/",
        });
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_500)));
        Assert.Equal("queued", (await pipeline.Api.GetJobAsync(id)).GetProperty("status").GetString());

        await pipeline.StartWorkerAsync(new Dictionary<string, string?> { ["ConnectionStrings:RabbitMq"] = await TestServices.RabbitMqAsync() });
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        await AssertExactlyOneResultPerRow(pipeline, id, 1_500);
    }

    /// <summary>
    /// The one retry policy with the defaults' shape (five attempts, a doubling backoff): every delivery is one attempt,
    /// each retry is the stall sweep's re-dispatch, and the last failure fails the job with its reason.
    /// </summary>
    [Fact]
    public async Task A_chunk_that_keeps_failing_fails_the_job_with_its_reason_after_bounded_attempts()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0, new Dictionary<string, string?> { ["Jobs:MaxAttempts"] = "5" });
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)));
        await pipeline.ExecuteAsync("UPDATE job_inputs SET features = '\\x07'::bytea WHERE job_id = @id AND chunk_index = 1", ("id", id));

        var worker = await pipeline.StartWorkerAsync();
        var job = await pipeline.Api.WaitForStatusAsync(id, "failed");

        Assert.Contains("Chunk 1 (rows 501-1000) failed after 5 attempts", job.GetProperty("error").GetString());
        Assert.Contains("corrupt", job.GetProperty("error").GetString());
        Assert.Equal(500, job.GetProperty("failedRows").GetInt32());
        Assert.Equal(5, await pipeline.ScalarAsync("SELECT attempts FROM job_chunks WHERE job_id = @id AND chunk_index = 1", ("id", id)));
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunk_results WHERE job_id = @id AND chunk_index = 1", ("id", id)));
        // The worker that failed it counts it, once; the job's other chunks finishing afterwards do not make it succeeded.
        using var workerClient = new HttpClient { BaseAddress = new Uri(worker.Urls.First()) };
        var metrics = await PrometheusText.WaitForAsync(workerClient, "flightdelay_jobs_finished_total", ("status", "failed"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_jobs_finished_total"));
        Assert.Equal(0, PrometheusText.Sum(metrics, "flightdelay_job_duration_per_100k_rows_seconds_count"));
        // Four failed attempts were released for a retry, and each retry was a re-dispatch: no broker-side retries.
        Assert.Equal(4, PrometheusText.Sum(metrics, "flightdelay_job_chunks_total", ("outcome", "retried")));
        Assert.True(PrometheusText.Sum(metrics, "flightdelay_job_chunks_redispatched_total") >= 4);
    }

    [Fact]
    public async Task A_chunk_that_fails_twice_then_reads_well_succeeds_on_its_third_delivery()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0, new Dictionary<string, string?>
        {
            ["Jobs:MaxAttempts"] = "5",
            // Slow enough that the test repairs the row between the second and third attempts.
            ["Jobs:RetryBackoff"] = "00:00:01",
            ["Jobs:StallTimeout"] = "00:00:10",
        });
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)));
        await pipeline.ExecuteAsync("CREATE TABLE saved AS SELECT features FROM job_inputs WHERE job_id = @id AND chunk_index = 1", ("id", id));
        await pipeline.ExecuteAsync("UPDATE job_inputs SET features = '\\x07'::bytea WHERE job_id = @id AND chunk_index = 1", ("id", id));

        await pipeline.StartWorkerAsync();
        await Poll.UntilAsync(() => pipeline.ScalarAsync("SELECT attempts FROM job_chunks WHERE job_id = @id AND chunk_index = 1 AND status = 'Pending'", ("id", id)),
            attempts => attempts == 2, JobApi.Deadline, "the chunk's second attempt to fail");
        await pipeline.ExecuteAsync("UPDATE job_inputs SET features = (SELECT features FROM saved) WHERE job_id = @id AND chunk_index = 1", ("id", id));

        await pipeline.Api.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(3, await pipeline.ScalarAsync("SELECT attempts FROM job_chunks WHERE job_id = @id AND chunk_index = 1", ("id", id)));
        await AssertExactlyOneResultPerRow(pipeline, id, 1_200);
    }

    [Fact]
    public async Task A_queued_job_is_canceled_at_once_and_never_scored()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        using var skipped = new ChunkOutcomeCounter("skipped");
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_000)));

        var cancel = await pipeline.Api.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("canceled", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await Problem.ReadAsync(await pipeline.Api.PostAsync($"/v1/jobs/{id}/cancel", null), HttpStatusCode.Conflict);
        // The API canceled it, so the API counts it, once: the refused second cancel is not a second end.
        var metrics = await PrometheusText.WaitForAsync(pipeline.Api, "flightdelay_jobs_finished_total", ("status", "canceled"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_jobs_finished_total"));

        await pipeline.StartWorkerAsync();
        await Poll.UntilAsync(() => Task.FromResult(skipped.Count), n => n >= 2, JobApi.Deadline, "both chunk commands to be skipped");
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunk_results WHERE job_id = @id", ("id", id)));
        Assert.Equal("canceled", (await pipeline.Api.GetJobAsync(id)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await pipeline.Api.GetAsync($"/v1/jobs/{id}/results")).StatusCode);
    }

    [Fact]
    public async Task Paging_a_running_job_stops_before_a_chunk_not_yet_scored_so_following_next_misses_no_row()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_500)));
        // Chunk 1 (rows 501-1000) scored before chunk 0: every result 0.5, delayed.
        await pipeline.ExecuteAsync("""
            UPDATE job_chunks SET status = 'Done', model_version = 'test' WHERE job_id = @id AND chunk_index = 1;
            UPDATE jobs SET status = 'Running', processed_rows = 500, chunks_done = 1 WHERE id = @id;
            INSERT INTO job_chunk_results VALUES (@id, 1, decode(repeat('3f00000001', 500), 'hex'));
            """, ("id", id));

        var first = await pipeline.Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/results?limit=1000");
        Assert.Empty(first.GetProperty("items").EnumerateArray());
        Assert.Equal($"/v1/jobs/{id}/results?after=0&limit=1000", first.GetProperty("next").GetString());

        var later = await pipeline.Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/results?after=600&limit=1000");
        Assert.Equal(Enumerable.Range(601, 400), later.GetProperty("items").EnumerateArray().Select(r => r.GetProperty("row").GetInt32()));
        Assert.All(later.GetProperty("items").EnumerateArray(), r => Assert.Equal(0.5f, r.GetProperty("probability").GetSingle()));
        Assert.Equal($"/v1/jobs/{id}/results?after=1000&limit=1000", later.GetProperty("next").GetString());
    }

    [Fact]
    public async Task Finished_jobs_are_removed_after_their_retention()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        await pipeline.StartWorkerAsync(new Dictionary<string, string?>
        {
            ["Jobs:Retention"] = "00:00:02",
            ["Jobs:RetentionSweepInterval"] = "00:00:00.250",
        });
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(600)));
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        await Poll.UntilAsync(async () => (await pipeline.Api.GetAsync($"/v1/jobs/{id}")).StatusCode, s => s == HttpStatusCode.NotFound, JobApi.Deadline, "the job to expire");
        foreach (var table in new[] { "job_chunk_results", "job_inputs", "job_chunks" })
            Assert.Equal(0, await pipeline.ScalarAsync($"SELECT count(*) FROM {table} WHERE job_id = @id", ("id", id)));
    }

    [Fact]
    public async Task Results_stream_as_csv_and_status_supports_conditional_get()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 1);
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_234)));
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        var status = await pipeline.Api.GetAsync($"/v1/jobs/{id}");
        var etag = status.Headers.ETag!;
        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}");
        conditional.Headers.IfNoneMatch.Add(etag);
        Assert.Equal(HttpStatusCode.NotModified, (await pipeline.Api.SendAsync(conditional)).StatusCode);

        var csv = await pipeline.Api.GetStringAsync($"/v1/jobs/{id}/results.csv");
        var lines = csv.TrimEnd('\n').Split('\n');
        Assert.Equal("row,delayed,probability,model_version", lines[0]);
        Assert.Equal(1_235, lines.Length);
        Assert.Equal(Enumerable.Range(1, 1_234).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), lines.Skip(1).Select(l => l.Split(',')[0]));

        var byAccept = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/results");
        byAccept.Headers.Accept.Add(JobApi.CsvMedia);
        var response = await pipeline.Api.SendAsync(byAccept);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(csv, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_original_job_and_a_different_body_conflicts()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var csv = JobApi.Csv(JobApi.Flights(700));

        var first = await pipeline.Api.SubmitCsvAsync(csv, "order-42");
        var again = await pipeline.Api.SubmitCsvAsync(csv, "order-42");
        var different = await pipeline.Api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(700, seed: 8)), "order-42");

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        await Problem.ReadAsync(different, HttpStatusCode.Conflict);
        Assert.Equal(1, await pipeline.ScalarAsync("SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task A_bad_csv_is_refused_with_its_rows_and_nothing_is_stored()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var csv = "airline,flightType,month\nGrupo LATAM,I,7\nPan Am,I,7\nIberia,N\nSky Airline,N,13\n";

        var problem = await Problem.ReadAsync(await pipeline.Api.SubmitCsvAsync(csv), HttpStatusCode.BadRequest);

        var rows = problem.Root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([2, 3, 4], rows.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Contains("Pan Am", rows[0].GetProperty("message").GetString());
        Assert.Contains("found 2", rows[1].GetProperty("message").GetString());
        Assert.Contains("month", rows[2].GetProperty("message").GetString());
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM jobs"));
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_inputs"));
    }

    [Fact]
    public async Task Unknown_ids_are_404_problems()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);

        foreach (var path in new[] { $"/v1/jobs/{Guid.NewGuid()}", $"/v1/jobs/{Guid.NewGuid()}/results", $"/v1/jobs/{Guid.NewGuid()}/results.csv", "/v1/jobs/not-a-guid", "/v1/jobs/..%2F..%2Fetc/results" })
            await Problem.ReadAsync(await pipeline.Api.GetAsync(path), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await pipeline.Api.PostAsync($"/v1/jobs/{Guid.NewGuid()}/cancel", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Jobs_are_listed_newest_first_and_filtered_by_status()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var older = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(100)));
        var newer = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(100, seed: 9)));
        await pipeline.Api.PostAsync($"/v1/jobs/{older}/cancel", null);

        var all = await pipeline.Api.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=1");
        var canceled = await pipeline.Api.GetFromJsonAsync<JsonElement>("/v1/jobs?status=canceled");

        Assert.Equal(newer, all.GetProperty("items")[0].GetProperty("id").GetGuid());
        Assert.Equal("/v1/jobs?offset=1&limit=1", all.GetProperty("next").GetString());
        Assert.Equal([older], canceled.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()));
        await Problem.ReadAsync(await pipeline.Api.GetAsync("/v1/jobs?status=done"), HttpStatusCode.BadRequest);
    }

    private static async Task AssertExactlyOneResultPerRow(Pipeline pipeline, Guid id, int rows)
    {
        await StoredResults.AssertExactlyOnePerRowAsync(pipeline.ConnectionString, id, rows);
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND model_version IS NULL", ("id", id)));
    }
}

/// <summary>The pipeline tests share one machine's broker and database server: run them one class at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipelineCollection
{
    public const string Name = "pipeline";
}
