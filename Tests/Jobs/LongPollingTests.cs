using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Long polling by RFC 7240: <c>GET /v1/jobs/{id}</c> with <c>Prefer: wait=N</c> is held until the job changes, and
/// <c>POST /v1/jobs</c> with it answers <c>200</c> with the results inline when the job ends in time. Waits here are
/// ten minutes (Jobs:MaxWait) and each request gives up after <see cref="Patience"/>: an answer that came only at the
/// deadline, not on the change, fails the test. On both hosting modes (<see cref="EmbeddedLongPollingTests"/>, and
/// <see cref="PostgresLongPollingTests"/>, where a worker's change reaches the API through PostgreSQL's NOTIFY).
/// </summary>
public abstract class LongPollingTests : IAsyncLifetime
{
    /// <summary>How long a test waits for an answer that a change should bring at once: far below the ten-minute wait asked.</summary>
    protected static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    protected static readonly Dictionary<string, string?> Settings = new()
    {
        ["Jobs:MaxWait"] = "00:10:00",
        ["Jobs:ChunkSize"] = "500",
    };

    protected HttpClient Api { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task A_submission_that_asks_to_wait_gets_its_results_inline_when_the_job_ends_in_time()
    {
        var flights = JobApi.Flights(1_200, seed: 12);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JobApi.Body(JobApi.Csv(flights), "text/csv") };
        request.Headers.Add("Prefer", "wait=600");
        using var patience = new CancellationTokenSource(Patience);
        using var response = await Api.SendAsync(request, patience.Token);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("wait=600", Assert.Single(response.Headers.GetValues("Preference-Applied")));
        var answer = JsonDocument.Parse(body).RootElement;
        var job = answer.GetProperty("job");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal(1_200, job.GetProperty("processedRows").GetInt32());
        var results = answer.GetProperty("results");
        Assert.Equal(JsonValueKind.Null, results.GetProperty("next").ValueKind);
        var items = results.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, 1_200), items.Select(i => i.GetProperty("row").GetInt32()));
        var expected = await Api.PredictAsync(flights);
        Assert.Equal(expected.Select(e => e.Probability), items.Select(i => i.GetProperty("probability").GetSingle()));
        // The same results the job's own pages give.
        Assert.Equal((await Api.AllResultsAsync(job.GetProperty("id").GetGuid())).Select(r => r.GetRawText()), items.Select(i => i.GetRawText()));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("respond-async, wait=600")]
    [InlineData("wait=soon")]
    [InlineData("wait=0")]
    public async Task Without_a_usable_wait_a_submission_answers_202_as_always(string? prefer)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JobApi.Body(JobApi.Csv(JobApi.Flights(10)), "text/csv") };
        if (prefer is not null) request.Headers.TryAddWithoutValidation("Prefer", prefer);
        using var response = await Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.False(response.Headers.Contains("Preference-Applied"));
        // The job as it stands when its upload ended: its one chunk, sent as soon as staged, may be scored already.
        Assert.Contains((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString(), new[] { "queued", "running", "succeeded" });
    }

    [Fact]
    public async Task A_long_poll_of_a_finished_job_answers_at_once_and_304_while_the_client_has_it()
    {
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(20)));
        await Api.WaitForStatusAsync(id, "succeeded");
        var first = await Api.GetAsync($"/v1/jobs/{id}");
        using var patience = new CancellationTokenSource(Patience);

        using var again = await LongPollAsync(id, "wait=600", first.Headers.ETag, patience.Token);
        Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
        // Nothing was held: a final job never changes.
        Assert.False(again.Headers.Contains("Preference-Applied"));
        using var fresh = await LongPollAsync(id, "wait=600", null, patience.Token);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
    }

    /// <summary><c>GET /v1/jobs/{id}</c> with <c>Prefer</c> and, when given, <c>If-None-Match</c>.</summary>
    protected async Task<HttpResponseMessage> LongPollAsync(Guid id, string prefer, EntityTagHeaderValue? seen, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}");
        request.Headers.TryAddWithoutValidation("Prefer", prefer);
        if (seen is not null) request.Headers.IfNoneMatch.Add(seen);
        return await Api.SendAsync(request, cancellationToken);
    }
}

public sealed class EmbeddedLongPollingTests : LongPollingTests
{
    private ApiFactory _factory = null!;

    public override Task InitializeAsync()
    {
        _factory = new ApiFactory();
        foreach (var (key, value) in Settings) _factory.With(key, value);
        Api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _factory.DisposeAsync();
    }
}

/// <summary>
/// Distributed: the API has no worker until a test starts one, so a job waits queued for as long as a test needs, and
/// the worker that scores it is another host (its own <see cref="JobChanges"/>): only PostgreSQL's NOTIFY tells the API.
/// </summary>
public sealed class PostgresLongPollingTests : LongPollingTests
{
    private Pipeline _pipeline = null!;

    private JobChanges Changes => _pipeline.Factory.Services.GetRequiredService<JobChanges>();

    public override async Task InitializeAsync()
    {
        _pipeline = await Pipeline.StartAsync(workers: 1, Settings);
        Api = _pipeline.Api;
    }

    public override async Task DisposeAsync() => await _pipeline.DisposeAsync();

    [Fact]
    public async Task A_held_poll_answers_when_a_worker_in_another_process_moves_the_job()
    {
        await StopWorkersAsync();
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(2_000)));
        var seen = await Api.GetAsync($"/v1/jobs/{id}");
        Assert.Equal("queued", (await seen.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        using var patience = new CancellationTokenSource(Patience);

        var poll = LongPollAsync(id, "wait=600", seen.Headers.ETag, patience.Token);
        await Poll.UntilAsync(() => Task.FromResult(Changes.Watched), n => n == 1, JobApi.Deadline, "the poll to be held");
        Assert.False(poll.IsCompleted);
        await _pipeline.StartWorkerAsync();

        using var answer = await poll;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal("wait=600", Assert.Single(answer.Headers.GetValues("Preference-Applied")));
        Assert.NotEqual(seen.Headers.ETag, answer.Headers.ETag);
        Assert.NotEqual("queued", (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await Poll.UntilAsync(() => Task.FromResult(Changes.Watched), n => n == 0, JobApi.Deadline, "the poll's watch to be released");
    }

    [Fact]
    public async Task A_poll_whose_wait_ends_with_no_change_is_304_to_a_client_with_the_tag_and_200_to_one_without()
    {
        await StopWorkersAsync();
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(10)));
        var seen = await Api.GetAsync($"/v1/jobs/{id}");

        using var unchanged = await LongPollAsync(id, "wait=1", seen.Headers.ETag, CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        Assert.Equal("wait=1", Assert.Single(unchanged.Headers.GetValues("Preference-Applied")));
        Assert.Contains("Prefer", unchanged.Headers.Vary);
        using var untagged = await LongPollAsync(id, "wait=1", null, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, untagged.StatusCode);
        Assert.Equal(seen.Headers.ETag, untagged.Headers.ETag);
        Assert.Equal(0, Changes.Watched);
    }

    [Fact]
    public async Task Many_polls_held_on_one_job_all_answer_when_it_is_deleted()
    {
        await StopWorkersAsync();
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(10)));
        var seen = await Api.GetAsync($"/v1/jobs/{id}");
        using var patience = new CancellationTokenSource(Patience);

        var polls = Enumerable.Range(0, 20).Select(i => LongPollAsync(id, "wait=600", i % 2 == 0 ? seen.Headers.ETag : null, patience.Token)).ToList();
        await Poll.UntilAsync(() => Task.FromResult(Changes.Watched), n => n == 1, JobApi.Deadline, "the polls to be held");
        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/v1/jobs/{id}")).StatusCode);

        // Deleting cancels first: a poll woken by that sees the job canceled, one woken later finds it gone.
        foreach (var answer in await Task.WhenAll(polls))
            Assert.True(answer.StatusCode == HttpStatusCode.NotFound
                || (answer.StatusCode == HttpStatusCode.OK && (await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString() == "canceled"),
                $"{answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        Assert.Equal(0, Changes.Watched);
    }

    [Fact]
    public async Task A_dropped_notification_connection_is_reopened_and_wakes_polls_again()
    {
        await StopWorkersAsync();
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(2_000)));
        var seen = await Api.GetAsync($"/v1/jobs/{id}");
        await using var admin = new NpgsqlConnection(_pipeline.ConnectionString);
        await admin.OpenAsync();
        async Task<List<int>> ListenersAsync()
        {
            await using var query = new NpgsqlCommand(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN job_changed%'", admin);
            var pids = new List<int>();
            await using var reader = await query.ExecuteReaderAsync();
            while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
            return pids;
        }
        var before = Assert.Single(await Poll.UntilAsync(ListenersAsync, p => p.Count == 1, JobApi.Deadline, "the API to listen"));

        await using (var kill = new NpgsqlCommand($"SELECT pg_terminate_backend({before})", admin))
            await kill.ExecuteNonQueryAsync();
        await Poll.UntilAsync(ListenersAsync, p => p.Count == 1 && p[0] != before, JobApi.Deadline, "the API to listen again");

        using var patience = new CancellationTokenSource(Patience);
        var poll = LongPollAsync(id, "wait=600", seen.Headers.ETag, patience.Token);
        await Poll.UntilAsync(() => Task.FromResult(Changes.Watched), n => n == 1, JobApi.Deadline, "the poll to be held");
        await _pipeline.StartWorkerAsync();
        using var answer = await poll;
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.NotEqual(seen.Headers.ETag, answer.Headers.ETag);
    }

    private async Task StopWorkersAsync()
    {
        foreach (var worker in _pipeline.Workers.ToList()) await _pipeline.StopWorkerAsync(worker);
    }
}
