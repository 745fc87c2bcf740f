using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The Idempotency-Key comes before a full backlog: a client that retries a submission that succeeded (its answer lost)
/// gets its job back even while new jobs are refused with 503, and another body under the key is still a 409.
/// Against PostgreSQL with no worker, so a queued job holds the backlog at the cap.
/// </summary>
public sealed class BusyRetryTests : IAsyncLifetime
{
    private const int Cap = 1_001;
    private Pipeline _pipeline = null!;

    public async Task InitializeAsync() => _pipeline = await Pipeline.StartAsync(workers: 0, new Dictionary<string, string?>
    {
        ["Jobs:InlineRows"] = "1000",
        ["Jobs:MaxQueuedRows"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public Task DisposeAsync() => _pipeline.DisposeAsync().AsTask();

    [Fact]
    public async Task A_retry_under_a_full_backlog_replays_its_job_and_another_body_under_its_key_is_409()
    {
        var api = _pipeline.Api;
        var csv = JobApi.Csv(JobApi.Flights(100, seed: 41));
        using var first = await api.SubmitCsvAsync(csv, idempotencyKey: "busy-retry");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        var id = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        // A job too large to score at once, and no worker: the backlog is at the cap until it is canceled.
        using var big = await api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(Cap, seed: 42)));
        Assert.Equal(HttpStatusCode.Accepted, big.StatusCode);
        // The API samples the backlog about once a second: a new job is refused once it has seen this one.
        using var refused = await Poll.UntilAsync(() => api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(10, seed: 43))),
            r => r.StatusCode == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(30), "a new job refused for the backlog");

        using var retry = await api.SubmitCsvAsync(csv, idempotencyKey: "busy-retry");
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal("true", Assert.Single(retry.Headers.GetValues("Idempotent-Replayed")));
        Assert.Equal(id, (await retry.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());

        using var reused = await api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(100, seed: 44)), idempotencyKey: "busy-retry");
        var problem = await Problem.ReadAsync(reused, HttpStatusCode.Conflict);
        Assert.Contains(id.ToString(), problem.Detail);

        // A new key is new work: refused while the backlog is full.
        using var fresh = await api.SubmitCsvAsync(csv, idempotencyKey: "busy-new");
        await Problem.ReadAsync(fresh, HttpStatusCode.ServiceUnavailable);
    }
}
