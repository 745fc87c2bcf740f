using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Fair scheduling (Jobs:DispatchWindow): each API key has at most its window of chunks sent and unfinished; the rest
/// are held in the database and sent as the key's chunks finish, to its jobs by priority and then round-robin. So
/// another key's job waits behind a window of a big job's chunks, not the whole job. Jobs are queued while no worker
/// runs (what was sent is then known exactly), then one worker scoring one chunk at a time starts. The express lane is
/// off, so every job goes through the window.
/// </summary>
public sealed class FairDispatchTests
{
    private const int Window = 4;
    private const int ChunkRows = 500; // Pipeline's Jobs:ChunkSize
    private const string AlphaKey = "alpha-secret-key-for-fair-dispatch";
    private const string BetaKey = "beta-secret-key-for-fair-dispatch";

    private static Task<Pipeline> StartAsync() => Pipeline.StartAsync(workers: 0, new Dictionary<string, string?>
    {
        ["Jobs:DispatchWindow"] = Window.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Jobs:ExpressRows"] = "0",
        // No chunk waits long enough to be sent again, so each one's dispatched_at is when its window slot was claimed.
        ["Jobs:StallTimeout"] = "00:01:00",
        ["ApiKeys:Keys:0:Id"] = "alpha",
        ["ApiKeys:Keys:0:Hash"] = ApiFactory.KeyHash(AlphaKey),
        ["ApiKeys:Keys:1:Id"] = "beta",
        ["ApiKeys:Keys:1:Hash"] = ApiFactory.KeyHash(BetaKey),
    });

    [Fact]
    public async Task A_key_has_at_most_its_window_of_chunks_sent_and_the_rest_follow_as_they_finish()
    {
        await using var pipeline = await StartAsync();
        var alpha = Client(pipeline, AlphaKey);
        var flights = JobApi.Flights(20 * ChunkRows, seed: 1);
        var job = await SubmitAsync(alpha, flights);

        Assert.Equal(Window, await SentAsync(pipeline, job));
        Assert.Equal(20 - Window, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND dispatched_at IS NULL", ("id", job)));

        await pipeline.StartWorkerAsync();
        await alpha.WaitForStatusAsync(job, "succeeded");
        var results = await alpha.AllResultsAsync(job);
        Assert.Equal(Enumerable.Range(1, flights.Length), results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal((await alpha.PredictAsync(flights)).Select(p => p.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
        Assert.Equal(20, await SentAsync(pipeline, job));
    }

    [Fact]
    public async Task Another_keys_job_is_scored_beside_a_big_job_not_after_it()
    {
        await using var pipeline = await StartAsync();
        var alpha = Client(pipeline, AlphaKey);
        var beta = Client(pipeline, BetaKey);
        var big = await SubmitAsync(alpha, JobApi.Flights(40 * ChunkRows, seed: 2));
        var other = await SubmitAsync(beta, JobApi.Flights(4 * ChunkRows, seed: 3));
        Assert.Equal(Window, await SentAsync(pipeline, other));

        await pipeline.StartWorkerAsync();
        await beta.WaitForStatusAsync(other, "succeeded");
        await alpha.WaitForStatusAsync(big, "succeeded");
        // Behind at most the big job's window (and what its completions sent meanwhile), far from all 40 of its chunks.
        var before = await pipeline.ScalarAsync("""
            SELECT count(*) FROM job_chunks WHERE job_id = @big
               AND finished_at < (SELECT max(finished_at) FROM job_chunks WHERE job_id = @other)
            """, ("big", big), ("other", other));
        Assert.True(before <= 2 * Window, $"beta's job finished after {before} of alpha's 40 chunks");
    }

    [Fact]
    public async Task A_keys_free_slots_go_to_its_high_priority_jobs_first_and_to_low_ones_last()
    {
        await using var pipeline = await StartAsync();
        var alpha = Client(pipeline, AlphaKey);
        var normal = await SubmitAsync(alpha, JobApi.Flights(12 * ChunkRows, seed: 4));
        var low = await SubmitAsync(alpha, JobApi.Flights(2 * ChunkRows, seed: 5), "low");
        var high = await SubmitAsync(alpha, JobApi.Flights(4 * ChunkRows, seed: 6), "HIGH");
        Assert.Equal("high", (await alpha.GetJobAsync(high)).GetProperty("priority").GetString());
        Assert.Equal("low", (await alpha.GetJobAsync(low)).GetProperty("priority").GetString());
        Assert.Equal("normal", (await alpha.GetJobAsync(normal)).GetProperty("priority").GetString());
        Assert.Equal(((long)Window, 0L, 0L), (await SentAsync(pipeline, normal), await SentAsync(pipeline, high), await SentAsync(pipeline, low)));

        await pipeline.StartWorkerAsync();
        foreach (var job in new[] { normal, low, high }) await alpha.WaitForStatusAsync(job, "succeeded");
        // Sent in priority order once the window was full: all of high's chunks before normal's fifth, all of normal's before low's first.
        Assert.Equal(1, await pipeline.ScalarAsync("""
            SELECT (SELECT max(dispatched_at) FROM job_chunks WHERE job_id = @high) <= (SELECT min(dispatched_at) FROM job_chunks WHERE job_id = @normal AND chunk_index >= @window)
               AND (SELECT max(dispatched_at) FROM job_chunks WHERE job_id = @normal) <= (SELECT min(dispatched_at) FROM job_chunks WHERE job_id = @low)
            """, ("high", high), ("normal", normal), ("low", low), ("window", Window)));
    }

    [Fact]
    public async Task Jobs_of_one_key_and_priority_share_its_window_round_robin()
    {
        await using var pipeline = await StartAsync();
        var alpha = Client(pipeline, AlphaKey);
        var first = await SubmitAsync(alpha, JobApi.Flights(12 * ChunkRows, seed: 7));
        var second = await SubmitAsync(alpha, JobApi.Flights(12 * ChunkRows, seed: 8));
        Assert.Equal(((long)Window, 0L), (await SentAsync(pipeline, first), await SentAsync(pipeline, second)));

        await pipeline.StartWorkerAsync();
        await alpha.WaitForStatusAsync(second, "succeeded");
        await alpha.WaitForStatusAsync(first, "succeeded");
        // Slots freed by the first job went to the second (fewest out) until both had as many out, and then in turns: in
        // first-come order, none of the second's chunks would have been sent before the first's last.
        Assert.True(await pipeline.ScalarAsync("""
            SELECT count(*) FROM job_chunks WHERE job_id = @second
               AND dispatched_at < (SELECT max(dispatched_at) FROM job_chunks WHERE job_id = @first)
            """, ("first", first), ("second", second)) >= Window, "the second job's chunks were sent after the first job's");
    }

    [Fact]
    public async Task Canceling_a_job_gives_its_window_to_the_keys_other_jobs_at_once()
    {
        await using var pipeline = await StartAsync();
        var alpha = Client(pipeline, AlphaKey);
        var canceled = await SubmitAsync(alpha, JobApi.Flights(10 * ChunkRows, seed: 9));
        var waiting = await SubmitAsync(alpha, JobApi.Flights(10 * ChunkRows, seed: 10));
        Assert.Equal(0, await SentAsync(pipeline, waiting));

        Assert.Equal(HttpStatusCode.OK, (await alpha.PostAsync($"/v1/jobs/{canceled}/cancel", null)).StatusCode);
        Assert.Equal(Window, await SentAsync(pipeline, waiting));

        await pipeline.StartWorkerAsync();
        await alpha.WaitForStatusAsync(waiting, "succeeded");
        Assert.Equal(10 * ChunkRows, (await alpha.AllResultsAsync(waiting)).Count);
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunk_results WHERE job_id = @id", ("id", canceled)));
    }

    [Fact]
    public async Task An_unknown_priority_is_refused_with_the_ones_there_are()
    {
        await using var pipeline = await StartAsync();
        var response = await Client(pipeline, AlphaKey).PostAsync("/v1/jobs?priority=urgent", new StringContent(JobApi.Csv(JobApi.Flights(5)), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("priority must be 'low', 'normal' (the default) or 'high', not 'urgent'", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    private static HttpClient Client(Pipeline pipeline, string key)
    {
        var client = pipeline.Factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private static async Task<Guid> SubmitAsync(HttpClient api, (string Airline, string FlightType, int Month)[] flights, string? priority = null)
    {
        var response = await api.PostAsync(priority is null ? "/v1/jobs" : $"/v1/jobs?priority={priority}", new StringContent(JobApi.Csv(flights), Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body.ToString());
        return body.GetProperty("id").GetGuid();
    }

    /// <summary>The job's chunks whose command has been sent (not held for the window).</summary>
    private static Task<long> SentAsync(Pipeline pipeline, Guid job) =>
        pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND dispatched_at IS NOT NULL", ("id", job));

}
