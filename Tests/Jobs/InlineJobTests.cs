using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;
using Npgsql;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Jobs of at most <c>Jobs:InlineRows</c> rows are scored by the API as it accepts them (issue 13's small-job path):
/// recorded with their results in one transaction, never queued. Against PostgreSQL with no worker at all, so only the
/// API can have scored what succeeds; a job one row larger waits for a worker, which then scores it.
/// </summary>
public sealed class InlineJobTests : IAsyncLifetime
{
    private const int InlineRows = 1_000;
    private Pipeline _pipeline = null!;
    private CallbackReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await CallbackReceiver.StartAsync();
        var settings = new Dictionary<string, string?>(CallbackReceiver.Settings())
        {
            ["Jobs:InlineRows"] = InlineRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs:ChunkSize"] = "5000",
            ["Jobs:SweepsInApi"] = "true",
            ["Jobs:SweepInterval"] = "00:00:00.200",
        };
        _pipeline = await Pipeline.StartAsync(workers: 0, settings);
    }

    public async Task DisposeAsync()
    {
        await _pipeline.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    private HttpClient Api => _pipeline.Api;

    [Fact]
    public async Task A_small_job_succeeds_with_no_worker_and_its_results_are_the_models()
    {
        var flights = JobApi.Flights(InlineRows, seed: 31);
        using var response = await Api.SubmitCsvAsync(JobApi.Csv(flights), callbackUrl: _receiver.Url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var answered = JsonDocument.Parse(body).RootElement;
        Assert.Equal("succeeded", answered.GetProperty("status").GetString());
        var id = answered.GetProperty("id").GetGuid();

        // What the answer said is what every later read says (times and tag as stored).
        using var get = await Api.GetAsync($"/v1/jobs/{id}");
        var job = await get.Content.ReadFromJsonAsync<JsonElement>();
        foreach (var field in new[] { "status", "createdAt", "startedAt", "finishedAt", "modelVersion", "totalRows" })
            Assert.Equal(answered.GetProperty(field).GetRawText(), job.GetProperty(field).GetRawText());
        Assert.Equal(InlineRows, job.GetProperty("processedRows").GetInt32());
        Assert.Equal(0, job.GetProperty("failedRows").GetInt32());

        var results = await Api.AllResultsAsync(id);
        Assert.Equal(Enumerable.Range(1, InlineRows), results.Select(r => r.GetProperty("row").GetInt32()));
        var expected = await Api.PredictAsync(flights);
        Assert.Equal(expected.Select(e => e.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
        Assert.Equal(expected.Select(e => e.Delayed), results.Select(r => r.GetProperty("delayed").GetBoolean()));

        // Its callback is delivered as any job's (the API runs the sweeps here), signed, once.
        await Api.WaitForCallbackAsync(id, "delivered");
        var callback = Assert.Single(_receiver.Received, c => c.Envelope.GetProperty("data").GetProperty("jobId").GetGuid() == id);
        Assert.Equal("job.succeeded", callback.Envelope.GetProperty("type").GetString());

        // One chunk, done by the API, with its inputs kept for downloads with ?include=inputs.
        await using var connection = new NpgsqlConnection(_pipeline.ConnectionString);
        await connection.OpenAsync();
        await using var chunks = new NpgsqlCommand("SELECT count(*), min(status), min(worker_id) FROM job_chunks WHERE job_id = @id", connection);
        chunks.Parameters.AddWithValue("id", id);
        await using (var reader = await chunks.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1L, reader.GetInt64(0));
            Assert.Equal("Done", reader.GetString(1));
            Assert.False(reader.IsDBNull(2));
        }
        var csv = await Api.GetStringAsync($"/v1/jobs/{id}/results.csv?include=inputs");
        Assert.Equal(InlineRows + 1, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains($"{flights[0].Airline},{flights[0].FlightType},{flights[0].Month}", csv.Split('\n')[1]);
    }

    [Fact]
    public async Task A_job_one_row_larger_waits_for_a_worker_which_then_scores_it()
    {
        var flights = JobApi.Flights(InlineRows + 1, seed: 32);
        var id = await Api.SubmitAsync(JobApi.Csv(flights));
        Assert.Equal("queued", (await Api.GetJobAsync(id)).GetProperty("status").GetString());

        await _pipeline.StartWorkerAsync();
        await Api.WaitForStatusAsync(id, "succeeded");
        var expected = await Api.PredictAsync(flights);
        Assert.Equal(expected.Select(e => e.Probability), (await Api.AllResultsAsync(id)).Select(r => r.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task Asking_to_wait_answers_200_with_the_results_and_skipped_rows_keep_their_places()
    {
        var flights = JobApi.Flights(100, seed: 33);
        var lines = JobApi.Csv(flights).Split('\n').ToList();
        lines[50] = "Not An Airline,N,5"; // row 50
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs?onInvalidRow=skip") { Content = JobApi.Body(string.Join('\n', lines), "text/csv") };
        request.Headers.Add("Prefer", "wait=30");
        using var response = await Api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var answer = JsonDocument.Parse(body).RootElement;
        Assert.Equal(99, answer.GetProperty("job").GetProperty("processedRows").GetInt32());
        Assert.Equal(1, answer.GetProperty("job").GetProperty("failedRows").GetInt32());

        var items = answer.GetProperty("results").GetProperty("items").EnumerateArray().ToList();
        var expected = await Api.PredictAsync(flights);
        var scored = items.Where(i => i.GetProperty("row").GetInt32() != 50).ToList();
        Assert.Equal(expected.Where((_, i) => i != 49).Select(e => e.Probability), scored.Select(i => i.GetProperty("probability").GetSingle()));
        var id = answer.GetProperty("job").GetProperty("id").GetGuid();
        var errors = await Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/errors");
        Assert.Equal(50, Assert.Single(errors.GetProperty("items").EnumerateArray()).GetProperty("row").GetInt32());
        // The page answered from memory is the page as stored.
        var stored = await Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/results");
        Assert.Equal(stored.GetProperty("items").GetRawText(), answer.GetProperty("results").GetProperty("items").GetRawText());
    }

    [Fact]
    public async Task Overlapping_retries_with_one_idempotency_key_make_one_job_and_a_refused_upload_leaves_nothing()
    {
        var csv = JobApi.Csv(JobApi.Flights(200, seed: 34));
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await Api.SubmitCsvAsync(csv, idempotencyKey: "inline-retry");
            return (response.StatusCode, Replayed: response.Headers.Contains("Idempotent-Replayed"), Body: await response.Content.ReadAsStringAsync());
        }));
        // A small job is recorded only once scored, never as uploading: every overlapping retry gets the one job, and
        // none a 409 "still uploading".
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        Assert.Single(answers, a => !a.Replayed);
        var id = Assert.Single(answers.Select(a => JsonDocument.Parse(a.Body).RootElement.GetProperty("id").GetGuid()).Distinct());
        using var replay = await Api.SubmitCsvAsync(csv, idempotencyKey: "inline-retry");
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal("true", Assert.Single(replay.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(id, (await replay.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());

        using var reused = await Api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(200, seed: 35)), idempotencyKey: "inline-retry");
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Contains(id.ToString(), await reused.Content.ReadAsStringAsync());

        using var refused = await Api.SubmitCsvAsync(csv + "Not An Airline,N,5\n");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await using var connection = new NpgsqlConnection(_pipeline.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM job_chunks) + (SELECT count(*) FROM job_inputs) + (SELECT count(*) FROM job_chunk_results)", connection);
        Assert.Equal(4L, (long)(await count.ExecuteScalarAsync())!);
    }
}
