using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Callbacks;

/// <summary>
/// Callbacks as the Standard Webhooks specification has them, checked with the npm <c>standardwebhooks</c> verifier:
/// headers, signature over id, timestamp and body, <c>whsec_</c> secrets, several signatures while a key rotates, the
/// <c>type</c>/<c>timestamp</c>/<c>data</c> payload; and delivery: <c>410</c> stops, <c>Retry-After</c> is honoured, a
/// client can ask for a callback again. (Embedded default, a real receiver on loopback.)
/// </summary>
public sealed class StandardWebhooksTests : IAsyncLifetime
{
    /// <summary>A Standard Webhooks secret: whsec_ and the base64 of 32 bytes.</summary>
    private const string NewKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw9y9EJc4SRCQ=";

    private ApiFactory _factory = null!;
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:SweepInterval", "00:00:00.200");
        foreach (var (key, value) in CallbackReceiver.Settings()) _factory.With(key, value);
        // Rotating: the new key signs, and the old one (the receivers' current) still does.
        _factory.With("Callbacks:SigningKey", NewKey).With("Callbacks:PreviousSigningKeys:0", CallbackReceiver.SigningKey);
        _api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task A_callback_verifies_with_the_standard_library_under_either_key_while_one_rotates()
    {
        await using var receiver = await CallbackReceiver.StartAsync(200);
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(600)), receiver.Url);
        var job = await _api.WaitForCallbackAsync(id, "delivered");

        var received = Assert.Single(receiver.Received);
        Assert.Equal(id.ToString(), received.Headers["webhook-id"]);
        Assert.InRange(long.Parse(received.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        Assert.Equal(2, received.Headers["webhook-signature"].Split(' ').Count(s => s.StartsWith("v1,", StringComparison.Ordinal)));

        Assert.Equal("job.succeeded", await WebhookVerifier.VerifyAsync(received, NewKey));
        Assert.Equal("job.succeeded", await WebhookVerifier.VerifyAsync(received, CallbackReceiver.StandardSecret(CallbackReceiver.SigningKey)));
        Assert.Null(await WebhookVerifier.VerifyAsync(received, "whsec_" + Convert.ToBase64String(new byte[32])));
        // The event id is signed: the same body under another id is refused.
        var forged = received with { Headers = new Dictionary<string, string>(received.Headers, StringComparer.OrdinalIgnoreCase) { ["webhook-id"] = Guid.NewGuid().ToString() } };
        Assert.Null(await WebhookVerifier.VerifyAsync(forged, NewKey));

        var envelope = received.Envelope;
        Assert.Equal("job.succeeded", envelope.GetProperty("type").GetString());
        Assert.Equal(job.GetProperty("finishedAt").GetDateTime(), envelope.GetProperty("timestamp").GetDateTime());
        Assert.Equal(id, envelope.GetProperty("data").GetProperty("jobId").GetGuid());
        // The deprecated header still verifies for one release, with the current key.
        Assert.True(received.SignatureVerifiesWithSecret(Convert.FromBase64String(NewKey["whsec_".Length..])));
    }

    [Fact]
    public async Task A_receiver_that_answers_410_is_not_called_again()
    {
        await using var receiver = await CallbackReceiver.StartAsync(410);
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(100)), receiver.Url);

        var job = await _api.WaitForCallbackAsync(id, "failed");

        Assert.Equal(1, job.GetProperty("callback").GetProperty("attemptCount").GetInt32());
        Assert.Single(receiver.Received);
    }

    [Fact]
    public async Task Retry_after_on_a_503_is_waited_for_though_the_backoff_is_shorter()
    {
        await using var receiver = await CallbackReceiver.StartAsync(503, 200);
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(100)), receiver.Url);

        var job = await _api.WaitForCallbackAsync(id, "delivered");

        var attempts = job.GetProperty("callback").GetProperty("attempts").EnumerateArray().Select(a => a.GetProperty("attemptedAt").GetDateTime()).ToList();
        Assert.Equal(2, attempts.Count);
        // The backoff here is 100-300 ms; the receiver asked for 2 s.
        Assert.True(attempts[1] - attempts[0] >= TimeSpan.FromSeconds(CallbackReceiver.RetryAfterSeconds),
            $"the second attempt came {(attempts[1] - attempts[0]).TotalSeconds:0.00} s after the first");
    }

    [Fact]
    public async Task A_client_can_have_a_delivered_callback_sent_once_more_with_the_same_event()
    {
        await using var receiver = await CallbackReceiver.StartAsync(200);
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(100)), receiver.Url);
        await _api.WaitForCallbackAsync(id, "delivered");

        var redeliver = await _api.PostAsync($"/v1/jobs/{id}/callback/redeliver", null);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal("pending", (await redeliver.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("callback").GetProperty("state").GetString());
        await Poll.UntilAsync(() => Task.FromResult(receiver.Received.Count), n => n == 2, JobApi.Deadline, "the callback to be sent again");
        await _api.WaitForCallbackAsync(id, "delivered");

        Assert.Single(receiver.Received.Select(r => r.Headers["webhook-id"]).Distinct());
        Assert.Single(receiver.Received.Select(r => Convert.ToBase64String(r.Body)).Distinct());
        var withoutCallback = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(10)));
        await Problem.ReadAsync(await _api.PostAsync($"/v1/jobs/{withoutCallback}/callback/redeliver", null), HttpStatusCode.Conflict);
        await Problem.ReadAsync(await _api.PostAsync($"/v1/jobs/{Guid.NewGuid()}/callback/redeliver", null), HttpStatusCode.NotFound);
    }
}
