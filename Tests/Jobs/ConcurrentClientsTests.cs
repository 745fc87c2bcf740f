using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Several clients at once on one database: a slow upload held open beside other clients' submissions, cancels and
/// scoring; overlapping requests with one Idempotency-Key; an upload abandoned mid-stream; deleting jobs. Each test runs
/// on both databases (<see cref="EmbeddedConcurrentClientsTests"/>, <see cref="PostgresConcurrentClientsTests"/>).
/// </summary>
public abstract class ConcurrentClientsTests : IAsyncLifetime
{
    /// <summary>A request that must not wait for another client's upload gets this long; it used to wait for the whole upload.</summary>
    private static readonly TimeSpan NotBlocked = TimeSpan.FromSeconds(15);

    protected const int ChunkSize = 500;

    /// <summary>
    /// A client that streams request bodies as they are written: the default test client follows redirects, and to
    /// replay a body after one it buffers every body whole before sending it.
    /// </summary>
    protected static readonly WebApplicationFactoryClientOptions Streaming = new() { AllowAutoRedirect = false };

    protected HttpClient Api { get; set; } = null!;

    protected IServiceProvider Services { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>One number from the jobs database, by SQL that both PostgreSQL and SQLite read the same.</summary>
    protected abstract Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters);

    [Fact]
    public async Task A_slow_upload_holds_no_lock_and_a_second_request_with_its_key_is_a_409_at_once()
    {
        var (csv, slow, slowUpload) = await StartSlowUploadAsync("order-7", seed: 7);
        try
        {

            // The same key again (a client's retry after a timeout): refused at once, not after the upload, never a 5xx.
            using (var retry = new CancellationTokenSource(NotBlocked))
            {
                var response = await Api.SendAsync(Submission(new StringContent(csv, System.Text.Encoding.UTF8, "text/csv"), "order-7"), retry.Token);
                var problem = await Problem.ReadAsync(response, HttpStatusCode.Conflict);
                Assert.Contains("still uploading", problem.Detail);
                Assert.NotNull(response.Headers.RetryAfter);
            }

            // Other clients go on: a submission is scored to the end, a cancel answers, the list shows no half-received job.
            using (var others = new CancellationTokenSource(NotBlocked))
            {
                var other = await Api.SendAsync(Submission(new StringContent(JobApi.Csv(JobApi.Flights(ChunkSize, seed: 3)), System.Text.Encoding.UTF8, "text/csv"), null), others.Token);
                Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);
                var otherId = JsonDocument.Parse(await other.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
                await Api.WaitForStatusAsync(otherId, "succeeded");

                var toCancel = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(2 * ChunkSize, seed: 4)));
                var cancel = await Api.PostAsync($"/v1/jobs/{toCancel}/cancel", null, others.Token);
                Assert.True(cancel.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"cancel answered {(int)cancel.StatusCode}: {await cancel.Content.ReadAsStringAsync()}");

                var list = await Api.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=100", others.Token);
                Assert.Equal(2, list.GetProperty("items").GetArrayLength());
            }
        }
        finally
        {
            slow.Release();
        }

        var accepted = await slowUpload;
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        var job = await Api.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(3 * ChunkSize, job.GetProperty("processedRows").GetInt32());

        // Once the first request has finished, its retry replays it; the same key with another body is still a conflict.
        var replay = await Api.SubmitCsvAsync(csv, "order-7");
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal($"/v1/jobs/{id}", replay.Headers.Location!.ToString());
        await Problem.ReadAsync(await Api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(10)), "order-7"), HttpStatusCode.Conflict);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM jobs WHERE idempotency_key = @key", ("key", "order-7")));
    }

    [Fact]
    public async Task Many_overlapping_requests_with_one_key_make_exactly_one_job()
    {
        var csv = JobApi.Csv(JobApi.Flights(ChunkSize * 2, seed: 11));
        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Api.SubmitCsvAsync(csv, "double-click")));

        // Each is either the job (new or replayed) or told that the first is still in progress; none is a 5xx.
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, $"answered {(int)r.StatusCode}"));
        var locations = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).Select(r => r.Headers.Location!.ToString()).Distinct().ToList();
        Assert.Single(locations);
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM jobs WHERE idempotency_key = @key", ("key", "double-click")));
    }

    [Fact]
    public async Task An_upload_the_client_abandons_leaves_nothing_behind()
    {
        using var client = new CancellationTokenSource();
        var (csv, _, upload) = await StartSlowUploadAsync("abandoned", seed: 5, client.Token);

        // The client gives up mid-upload (a timeout, a closed laptop): the server sees the request aborted.
        await client.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => upload);

        await Poll.UntilAsync(() => ScalarAsync("SELECT count(*) FROM jobs WHERE idempotency_key = @key", ("key", "abandoned")),
            jobs => jobs == 0, JobApi.Deadline, "the abandoned upload's job to be removed");
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM job_chunks"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM job_inputs"));
        // The key is free again: a new submission with it makes a new job.
        var again = await Api.SubmitCsvAsync(csv, "abandoned");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.False(again.Headers.Contains("Idempotent-Replayed"));
    }

    [Fact]
    public async Task An_upload_whose_process_died_is_swept_after_the_longest_upload_time()
    {
        var (_, slow, upload) = await StartSlowUploadAsync("orphan", seed: 6);
        try
        {
            // As if its process had died long ago: a receiving job older than Jobs:MaxUploadDuration.
            await ExecuteAsync("UPDATE jobs SET created_at = @then WHERE idempotency_key = @key", ("then", DateTime.UtcNow.AddHours(-2)), ("key", "orphan"));
            // The host's own sweep may get there first (it runs on its interval); either way the same code removes it.
            await Services.GetRequiredService<JobRetentionService>().RemoveExpiredAsync(CancellationToken.None);
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM jobs WHERE idempotency_key = @key", ("key", "orphan")));
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM job_chunks"));
        }
        finally
        {
            slow.Release();
        }
        // The upload that outlived its job is told so, and nothing of it stays.
        await Problem.ReadAsync(await upload, HttpStatusCode.RequestTimeout);
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM jobs"));
    }

    [Fact]
    public async Task Deleting_a_job_removes_it_and_its_results_and_cancels_it_first_when_running()
    {
        var done = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(ChunkSize)));
        await Api.WaitForStatusAsync(done, "succeeded");

        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/v1/jobs/{done}")).StatusCode);
        await Problem.ReadAsync(await Api.GetAsync($"/v1/jobs/{done}"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await Api.GetAsync($"/v1/jobs/{done}/results"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await Api.DeleteAsync($"/v1/jobs/{done}"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await Api.DeleteAsync("/v1/jobs/not-a-job"), HttpStatusCode.NotFound);
        foreach (var table in new[] { "job_chunk_results", "job_inputs", "job_chunks" })
            Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM {table}"));

        // A job still being scored: deleted while its chunks are in flight, and no late chunk brings anything back.
        var running = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(6 * ChunkSize, seed: 9)));
        Assert.Equal(HttpStatusCode.NoContent, (await Api.DeleteAsync($"/v1/jobs/{running}")).StatusCode);
        await Problem.ReadAsync(await Api.GetAsync($"/v1/jobs/{running}"), HttpStatusCode.NotFound);
        var later = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(ChunkSize, seed: 10)));
        await Api.WaitForStatusAsync(later, "succeeded");
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM jobs"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM job_chunk_results"));
    }

    protected abstract Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters);

    /// <summary>
    /// Starts a CSV upload of three chunks with <paramref name="key"/> that holds back its second half until released;
    /// returns once its job is receiving and its first chunk is staged (in a write of its own, while the upload streams).
    /// </summary>
    private async Task<(string Csv, GatedContent Body, Task<HttpResponseMessage> Response)> StartSlowUploadAsync(string key, int seed, CancellationToken aborted = default)
    {
        var csv = JobApi.Csv(JobApi.Flights(3 * ChunkSize, seed));
        var half = csv.IndexOf('\n', csv.Length / 2) + 1;
        var body = new GatedContent(csv[..half], csv[half..]);
        var response = Api.SendAsync(Submission(body, key), aborted);
        await Poll.UntilAsync(() => ScalarAsync(
                "SELECT count(*) FROM job_chunks c JOIN jobs j ON j.id = c.job_id WHERE j.idempotency_key = @key AND j.status = 'Receiving'", ("key", key)),
            staged => staged >= 1, JobApi.Deadline, $"the first chunk of upload '{key}' to be staged");
        return (csv, body, response);
    }

    private static HttpRequestMessage Submission(HttpContent content, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = content };
        if (key is not null) request.Headers.Add("Idempotency-Key", key);
        return request;
    }
}

/// <summary>The embedded default: SQLite, whose one write lock a slow upload used to hold for its whole length.</summary>
public sealed class EmbeddedConcurrentClientsTests : ConcurrentClientsTests
{
    private ApiFactory _factory = null!;

    public override Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture)).With("Jobs:SweepInterval", "00:00:00.200");
        Api = _factory.CreateClient(Streaming);
        Services = _factory.Services;
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _factory.DisposeAsync();
    }

    protected override async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters) =>
        await CommandAsync(sql, parameters, async c => Convert.ToInt64(await c.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture));

    protected override Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters) =>
        CommandAsync(sql, parameters, c => c.ExecuteNonQueryAsync());

    private async Task<T> CommandAsync<T>(string sql, (string Name, object Value)[] parameters, Func<Microsoft.Data.Sqlite.SqliteCommand, Task<T>> run)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(_factory.SqliteConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await run(command);
    }
}

/// <summary>Distributed: PostgreSQL, where the first upload's open transaction used to make a second request wait for it.</summary>
public sealed class PostgresConcurrentClientsTests : ConcurrentClientsTests
{
    private Pipeline _pipeline = null!;

    public override async Task InitializeAsync()
    {
        _pipeline = await Pipeline.StartAsync(workers: 1, new Dictionary<string, string?> { ["Jobs:ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Api = _pipeline.Factory.CreateClient(Streaming);
        Services = _pipeline.Workers[0].Services;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _pipeline.DisposeAsync();
    }

    protected override Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters) => _pipeline.ScalarAsync(sql, parameters);

    protected override Task ExecuteAsync(string sql, params (string Name, object Value)[] parameters) => _pipeline.ExecuteAsync(sql, parameters);
}
