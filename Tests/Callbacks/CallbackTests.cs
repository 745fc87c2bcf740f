using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.Options;

namespace FlightDelay.Tests.Callbacks;

/// <summary>
/// Callbacks in the embedded default (one process, in-memory bus, SQLite): which URLs a submission may name, the
/// options checked on start, and a delivery end to end to a real receiver on loopback.
/// </summary>
public sealed class CallbackTests : IAsyncLifetime
{
    private ApiFactory _factory = null!;
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:SweepInterval", "00:00:00.200");
        foreach (var (key, value) in CallbackReceiver.Settings()) _factory.With(key, value);
        _api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("ftp://127.0.0.1/hook", "must use https")]
    [InlineData("/hooks/jobs", "absolute")]
    [InlineData("hooks.example.com/jobs", "absolute")]
    [InlineData("https://evil.example.net/hook", "'evil.example.net' is not allowed")]
    [InlineData("https://example.com/hook", "'example.com' is not allowed")]
    [InlineData("https://127.0.0.2/hook", "'127.0.0.2' is not allowed")]
    [InlineData("http://hooks.example.com/hook", "plain http is allowed only")]
    [InlineData("https://user:secret@hooks.example.com/hook", "user information")]
    [InlineData("https://hooks.example.com/hook#part", "fragment")]
    public async Task A_callback_url_that_is_not_allowed_is_a_400_naming_the_reason_and_nothing_is_stored(string url, string reason)
    {
        var problem = await Problem.ReadAsync(await _api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(10)), callbackUrl: url), HttpStatusCode.BadRequest);

        Assert.Contains(reason, problem.Detail);
        Assert.Equal("Callback-Url", problem.Root.GetProperty("header").GetString());
        var jobs = JsonDocument.Parse(await _api.GetStringAsync("/v1/jobs")).RootElement;
        Assert.Empty(jobs.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task An_overlong_callback_url_or_two_of_them_are_refused()
    {
        var tooLong = $"https://hooks.example.com/{new string('a', CallbackOptions.MaxUrlLength)}";
        var problem = await Problem.ReadAsync(await _api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(10)), callbackUrl: tooLong), HttpStatusCode.BadRequest);
        Assert.Contains($"at most {CallbackOptions.MaxUrlLength} characters", problem.Detail);

        var two = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(JobApi.Csv(JobApi.Flights(10)), System.Text.Encoding.UTF8, "text/csv") };
        two.Headers.Add("Callback-Url", ["https://a.example.com/", "https://b.example.com/"]);
        Assert.Contains("at most one Callback-Url", (await Problem.ReadAsync(await _api.SendAsync(two), HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task Without_an_allow_list_every_callback_is_refused_and_jobs_without_one_still_work()
    {
        // A blank entry, as an unset environment variable gives, is no entry: callbacks off, no signing key needed.
        await using var closed = new ApiFactory().With("Callbacks:AllowedHosts:0", "");
        var api = closed.CreateClient();

        var problem = await Problem.ReadAsync(await api.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(10)), callbackUrl: "https://hooks.example.com/x"), HttpStatusCode.BadRequest);

        Assert.Contains("Callbacks are not enabled", problem.Detail);
        var id = await api.SubmitAsync(JobApi.Csv(JobApi.Flights(10)));
        Assert.Equal(JsonValueKind.Null, (await api.GetJobAsync(id)).GetProperty("callback").ValueKind);
    }

    [Fact]
    public void A_host_that_delivers_callbacks_does_not_start_without_a_signing_key()
    {
        using var factory = new ApiFactory().With("Callbacks:AllowedHosts:0", "hooks.example.com");

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Callbacks:SigningKey is required", error.Message);
    }

    [Fact]
    public async Task The_same_idempotency_key_with_another_callback_is_a_conflict()
    {
        // Loopback port 1, where nothing listens: the job's callback goes nowhere, quickly.
        var csv = JobApi.Csv(JobApi.Flights(10));
        Assert.Equal(HttpStatusCode.Accepted, (await _api.SubmitCsvAsync(csv, "key-1", "http://127.0.0.1:1/a")).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await _api.SubmitCsvAsync(csv, "key-1", "http://127.0.0.1:1/a")).StatusCode);
        await Problem.ReadAsync(await _api.SubmitCsvAsync(csv, "key-1", "http://127.0.0.1:1/b"), HttpStatusCode.Conflict);
        await Problem.ReadAsync(await _api.SubmitCsvAsync(csv, "key-1"), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_job_in_the_embedded_default_notifies_its_callback_and_a_redirect_is_not_followed()
    {
        await using var receiver = await CallbackReceiver.StartAsync(307, 200);

        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)), receiver.Url);
        var job = await _api.WaitForCallbackAsync(id, "delivered");

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var attempts = job.GetProperty("callback").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([307, 200], attempts.Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.All(receiver.Received, r => Assert.Equal(CallbackReceiver.Path, r.Path));
        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.True(r.SignatureVerifies(CallbackReceiver.SigningKey)));
        Assert.Equal(1_200, receiver.Received[^1].Data.GetProperty("rows").GetProperty("processed").GetInt32());

        // At least: the exporter reads meters by name across the process, and other test classes deliver callbacks too.
        await Poll.UntilAsync(() => _api.GetStringAsync("/metrics"),
            m => PrometheusText.Sum(m, "flightdelay_callback_deliveries_total", ("outcome", "delivered")) >= 1
                && PrometheusText.Sum(m, "flightdelay_callback_deliveries_total", ("outcome", "retried")) >= 1,
            JobApi.Deadline, "the callback counter to show delivered and retried attempts");
    }

    [Fact]
    public async Task The_openapi_document_describes_the_callback_header_of_job_submission()
    {
        var document = JsonDocument.Parse(await _api.GetStringAsync("/openapi/v1.json")).RootElement;
        var submit = document.GetProperty("paths").GetProperty("/v1/jobs").GetProperty("post");

        var headers = submit.GetProperty("parameters").EnumerateArray().Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString());
        Assert.Equal(["Idempotency-Key", "Callback-Url", "Prefer"], headers);
        Assert.Contains("X-FlightDelay-Signature", submit.GetProperty("description").GetString());
    }

    [Theory]
    [InlineData("hooks.example.com", "hooks.example.com", true)]
    [InlineData("HOOKS.Example.com", "hooks.example.com", true)]
    [InlineData("hooks.example.com.", "hooks.example.com", true)]
    [InlineData("a.hooks.example.com", "hooks.example.com", false)]
    [InlineData("a.example.com", "*.example.com", true)]
    [InlineData("a.b.example.com", "*.example.com", true)]
    [InlineData("example.com", "*.example.com", false)]
    [InlineData("badexample.com", "*.example.com", false)]
    [InlineData("example.com.evil.net", "*.example.com", false)]
    [InlineData("[::1]", "::1", true)]
    public void Host_patterns_match_exact_hosts_and_subdomains(string host, string pattern, bool matches) =>
        Assert.Equal(matches, CallbackUrls.Matches(host, [pattern]));

    [Theory]
    [InlineData("hooks.example.com", true)]
    [InlineData("*.example.com", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("[::1]", true)]
    [InlineData("https://hooks.example.com", false)]
    [InlineData("hooks.example.com:8443", false)]
    [InlineData("hooks.example.com/path", false)]
    [InlineData("*", false)]
    [InlineData("a.*.example.com", false)]
    [InlineData("", false)]
    public void Allow_list_entries_are_host_names_addresses_or_wildcard_domains(string pattern, bool valid) =>
        Assert.Equal(valid, CallbackUrls.IsValidPattern(pattern));

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
    }
}
