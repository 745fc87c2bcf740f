using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Callbacks;

/// <summary>
/// Job completion callbacks end to end: the API, Worker hosts on RabbitMQ and PostgreSQL, all real, POSTing to a
/// real HTTP receiver on loopback.
/// </summary>
[Collection(PipelineCollection.Name)]
public class CallbackPipelineTests
{
    [Fact]
    public async Task A_succeeded_job_posts_one_signed_notification_with_its_outcome()
    {
        await using var receiver = await CallbackReceiver.StartAsync(200);
        await using var pipeline = await Pipeline.StartAsync(workers: 2, CallbackReceiver.Settings());

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)), receiver.Url);
        var finished = await pipeline.Api.WaitForStatusAsync(id, "succeeded");
        var job = await pipeline.Api.WaitForCallbackAsync(id, "delivered");

        // Delivered, and claimed once: a second POST would have needed a second claim of the attempt count.
        var callback = job.GetProperty("callback");
        Assert.Equal(receiver.Url, callback.GetProperty("url").GetString());
        Assert.Equal(1, callback.GetProperty("attemptCount").GetInt32());
        var attempt = Assert.Single(callback.GetProperty("attempts").EnumerateArray());
        Assert.Equal(200, attempt.GetProperty("statusCode").GetInt32());
        var received = Assert.Single(receiver.Received);
        Assert.Equal(1, await pipeline.ScalarAsync("SELECT count(*) FROM job_callback_attempts WHERE job_id = @id", ("id", id)));

        Assert.Equal(CallbackReceiver.Path, received.Path);
        Assert.True(received.SignatureVerifies(CallbackReceiver.SigningKey), "the signature verifies with the signing key");
        Assert.False(received.SignatureVerifies(CallbackReceiver.SigningKey + "x"), "and not with another key");
        Assert.StartsWith("application/json", received.Headers["Content-Type"]);
        Assert.Equal(id.ToString(), received.Headers["X-FlightDelay-Event"]);
        Assert.Equal(attempt.GetProperty("deliveryId").GetGuid().ToString(), received.Headers["X-FlightDelay-Delivery"]);
        Assert.InRange(long.Parse(received.Headers["X-FlightDelay-Timestamp"], System.Globalization.CultureInfo.InvariantCulture),
            DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());

        Assert.Equal("job.succeeded", await WebhookVerifier.VerifyAsync(received, CallbackReceiver.StandardSecret(CallbackReceiver.SigningKey)));
        Assert.Equal(id.ToString(), received.Headers["webhook-id"]);
        Assert.Equal("job.succeeded", received.Envelope.GetProperty("type").GetString());
        var body = received.Data;
        Assert.Equal(id, body.GetProperty("jobId").GetGuid());
        Assert.Equal("succeeded", body.GetProperty("status").GetString());
        Assert.Equal(1_200, body.GetProperty("rows").GetProperty("total").GetInt32());
        Assert.Equal(1_200, body.GetProperty("rows").GetProperty("processed").GetInt32());
        Assert.Equal(0, body.GetProperty("rows").GetProperty("failed").GetInt32());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("failedReason").ValueKind);
        var version = finished.GetProperty("modelVersion").GetString();
        Assert.Equal(version, body.GetProperty("modelVersion").GetString());
        Assert.Equal([version], body.GetProperty("modelVersions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(finished.GetProperty("finishedAt").GetDateTime(), body.GetProperty("finishedAt").GetDateTime());
        Assert.Equal($"/v1/jobs/{id}", body.GetProperty("links").GetProperty("status").GetString());
        Assert.Equal($"/v1/jobs/{id}/results", body.GetProperty("links").GetProperty("results").GetString());
    }

    [Fact]
    public async Task A_receiver_that_answers_500_twice_gets_the_notification_on_the_third_attempt()
    {
        await using var receiver = await CallbackReceiver.StartAsync(500, 500, 200);
        await using var pipeline = await Pipeline.StartAsync(workers: 2, CallbackReceiver.Settings(maxAttempts: 5));

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(300)), receiver.Url);
        var job = await pipeline.Api.WaitForCallbackAsync(id, "delivered");

        var attempts = job.GetProperty("callback").GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal([500, 500, 200], attempts.Select(a => a.GetProperty("statusCode").GetInt32()));
        Assert.Equal(3, receiver.Received.Count);
        // One event, three deliveries of it: the same body and event id, a new delivery id and signature each time.
        Assert.Single(receiver.Received.Select(r => r.Headers["X-FlightDelay-Event"]).Distinct());
        Assert.Equal(3, receiver.Received.Select(r => r.Headers["X-FlightDelay-Delivery"]).Distinct().Count());
        Assert.Equal(["1", "2", "3"], receiver.Received.Select(r => r.Headers["X-FlightDelay-Attempt"]));
        Assert.Single(receiver.Received.Select(r => Convert.ToBase64String(r.Body)).Distinct());
        Assert.All(receiver.Received, r => Assert.True(r.SignatureVerifies(CallbackReceiver.SigningKey)));
        Assert.Equal(attempts.Select(a => a.GetProperty("deliveryId").GetGuid().ToString()), receiver.Received.Select(r => r.Headers["X-FlightDelay-Delivery"]));
    }

    [Fact]
    public async Task A_receiver_that_stays_down_is_given_up_after_the_last_attempt()
    {
        // Nothing listens on port 1: every attempt is refused before any status code.
        await using var pipeline = await Pipeline.StartAsync(workers: 1, CallbackReceiver.Settings(maxAttempts: 3));

        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(300)), "http://127.0.0.1:1/hooks/jobs");
        var job = await pipeline.Api.WaitForCallbackAsync(id, "failed");

        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        var callback = job.GetProperty("callback");
        Assert.Equal(3, callback.GetProperty("attemptCount").GetInt32());
        Assert.Equal(JsonValueKind.Null, callback.GetProperty("nextAttemptAt").ValueKind);
        var attempts = callback.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.All(attempts, a =>
        {
            Assert.Equal(JsonValueKind.Null, a.GetProperty("statusCode").ValueKind);
            Assert.Contains("ConnectionError", a.GetProperty("error").GetString());
        });
        // Backed off between attempts, not hammered.
        var times = attempts.Select(a => a.GetProperty("attemptedAt").GetDateTime()).ToList();
        Assert.All(times.Zip(times.Skip(1)), t => Assert.True(t.Second - t.First >= TimeSpan.FromMilliseconds(50), $"{t.First:o} then {t.Second:o}"));
        Assert.Equal(3, await pipeline.ScalarAsync("SELECT count(*) FROM job_callback_attempts WHERE job_id = @id AND status_code IS NULL", ("id", id)));
    }

    [Fact]
    public async Task A_failed_job_notifies_its_callback_with_the_reason()
    {
        await using var receiver = await CallbackReceiver.StartAsync(204);
        await using var pipeline = await Pipeline.StartAsync(workers: 0, CallbackReceiver.Settings());
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)), receiver.Url);
        await pipeline.ExecuteAsync("UPDATE job_inputs SET features = '\\x07'::bytea WHERE job_id = @id AND chunk_index = 1", ("id", id));

        await pipeline.StartWorkerAsync();
        var job = await pipeline.Api.WaitForStatusAsync(id, "failed");
        await pipeline.Api.WaitForCallbackAsync(id, "delivered");

        var body = Assert.Single(receiver.Received).Data;
        Assert.Equal("failed", body.GetProperty("status").GetString());
        Assert.Equal(job.GetProperty("error").GetString(), body.GetProperty("failedReason").GetString());
        Assert.Contains("Chunk 1 (rows 501-1000) failed after 3 attempts", body.GetProperty("failedReason").GetString());
        Assert.Equal(500, body.GetProperty("rows").GetProperty("failed").GetInt32());
    }

    [Fact]
    public async Task A_canceled_job_notifies_once_a_worker_is_there_to_deliver_it()
    {
        await using var receiver = await CallbackReceiver.StartAsync(200);
        await using var pipeline = await Pipeline.StartAsync(workers: 0, CallbackReceiver.Settings());
        var id = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(600)), receiver.Url);

        var cancel = await pipeline.Api.PostAsync($"/v1/jobs/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        // Recorded as due with the cancel itself; nothing is sent until a consumer host runs.
        Assert.Equal("pending", (await cancel.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("callback").GetProperty("state").GetString());
        Assert.Empty(receiver.Received);

        await pipeline.StartWorkerAsync();
        await pipeline.Api.WaitForCallbackAsync(id, "delivered");

        var body = Assert.Single(receiver.Received).Data;
        Assert.Equal("canceled", body.GetProperty("status").GetString());
        Assert.Equal(0, body.GetProperty("rows").GetProperty("processed").GetInt32());
    }
}
