using System.Text;
using FlightDelay.Client;
using FlightDelay.Processing.Callbacks;
using Microsoft.Extensions.Time.Testing;

namespace FlightDelay.Tests.Client;

/// <summary>The client's verifier accepts what the service's dispatcher signs (CallbackSignature), and nothing else.</summary>
public sealed class WebhookVerifierTests
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string PlainKey = "a-signing-key-of-at-least-32-characters!";
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""
        {"type":"job.succeeded","timestamp":"2026-12-05T11:59:58Z","data":{"jobId":"01a24763-6efc-7c2b-a62d-d227b0206e7d","status":"succeeded","rows":{"total":2,"processed":2,"failed":0},"failedReason":null,"modelVersion":"m-5b653971c90b","modelVersions":["m-5b653971c90b"],"finishedAt":"2026-12-05T11:59:58Z","links":{"status":"/v1/jobs/x","results":"/v1/jobs/x/results","resultsCsv":"/v1/jobs/x/results.csv"}}}
        """);

    private static (string Id, string Timestamp, string Signature) Sign(IEnumerable<string> keys, byte[] body, DateTimeOffset at)
    {
        var id = "01a24763-6efc-7c2b-a62d-d227b0206e7d";
        return (id, at.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), CallbackSignature.Standard(keys, id, at.ToUnixTimeSeconds(), body));
    }

    private static WebhookVerifier Verifier(string secret) => new(secret, time: new FakeTimeProvider(Now));

    [Fact]
    public void A_notification_signed_by_the_service_verifies_and_parses()
    {
        var (id, timestamp, signature) = Sign([Secret], Body, Now.AddSeconds(-2));

        var notification = Verifier(Secret).Verify(Body, id, timestamp, signature);

        Assert.Equal("job.succeeded", notification.Type);
        Assert.Equal(2, notification.Data.Rows.Processed);
        Assert.Equal("m-5b653971c90b", notification.Data.ModelVersion);
    }

    [Fact]
    public void A_plain_key_and_a_rotation_pair_verify_with_either_key()
    {
        var (id, timestamp, signature) = Sign([PlainKey, Secret], Body, Now);
        var headers = new Dictionary<string, IEnumerable<string>>
        {
            ["Webhook-Id"] = [id], ["Webhook-Timestamp"] = [timestamp], ["Webhook-Signature"] = [signature],
        };

        Assert.Equal("job.succeeded", Verifier(PlainKey).Verify(Body, headers).Type);
        Assert.Equal("job.succeeded", Verifier(Secret).Verify(Body, headers).Type);
        // The plain key as a Standard Webhooks library takes it: whsec_ and the base64 of its bytes.
        Assert.Equal("job.succeeded", Verifier("whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(PlainKey))).Verify(Body, headers).Type);
    }

    [Fact]
    public void Forged_altered_replayed_or_incomplete_notifications_are_refused()
    {
        var (id, timestamp, signature) = Sign([Secret], Body, Now);
        var altered = (byte[])Body.Clone();
        altered[^20] ^= 1;
        var (_, oldTimestamp, oldSignature) = Sign([Secret], Body, Now.AddMinutes(-6));
        var verifier = Verifier(Secret);

        Assert.Throws<WebhookVerificationException>(() => Verifier("whsec_" + Convert.ToBase64String(new byte[32])).Verify(Body, id, timestamp, signature));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(altered, id, timestamp, signature));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(Body, "another-id", timestamp, signature));
        Assert.Contains("too old", Assert.Throws<WebhookVerificationException>(() => verifier.Verify(Body, id, oldTimestamp, oldSignature)).Message, StringComparison.Ordinal);
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(Body, id, timestamp, null));
        Assert.Throws<WebhookVerificationException>(() => verifier.Verify(Body, id, timestamp, "v2," + signature[3..]));
        Assert.Throws<ArgumentException>(() => new WebhookVerifier("whsec_not*base64"));
    }
}
