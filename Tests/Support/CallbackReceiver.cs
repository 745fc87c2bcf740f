using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FlightDelay.Tests.Support;

/// <summary>
/// A real HTTP server on loopback (Kestrel on 127.0.0.1, any free port) that records every request it receives and
/// answers with the given status codes in turn (the last one from then on). A 3xx answer points at
/// <see cref="RedirectPath"/>, so a test can see that redirects are not followed; a 429 or 503 asks for
/// <see cref="RetryAfterSeconds"/> with <c>Retry-After</c>.
/// </summary>
public sealed class CallbackReceiver : IAsyncDisposable
{
    public const string SigningKey = "test-signing-key-0123456789abcdef0123456789";
    public const string Path = "/hooks/jobs";
    public const string RedirectPath = "/hooks/redirected";
    public const int RetryAfterSeconds = 2;

    /// <summary><see cref="SigningKey"/> as a Standard Webhooks verifier takes it: <c>whsec_</c> and the base64 of its UTF-8 bytes.</summary>
    public static string StandardSecret(string key) => "whsec_" + Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedCallback> _received = new();
    private readonly int[] _answers;
    private int _count;

    private CallbackReceiver(int[] answers)
    {
        _answers = answers.Length == 0 ? [200] : answers;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var n = Interlocked.Increment(ref _count);
            _received.Enqueue(new ReceivedCallback(
                context.Request.Path,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray()));
            var status = _answers[Math.Min(n, _answers.Length) - 1];
            if (status is >= 300 and < 400) context.Response.Headers.Location = RedirectPath;
            if (status is 429 or 503) context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.StatusCode = status;
        });
    }

    /// <summary>Starts a receiver that answers with <paramref name="answers"/> in turn (200 when none are given).</summary>
    public static async Task<CallbackReceiver> StartAsync(params int[] answers)
    {
        var receiver = new CallbackReceiver(answers);
        await receiver._app.StartAsync();
        return receiver;
    }

    public string Url => $"{_app.Urls.Single()}{Path}";

    public IReadOnlyList<ReceivedCallback> Received => [.. _received];

    /// <summary>
    /// Settings that enable callbacks to loopback over http with <see cref="SigningKey"/>, checked every 100 ms,
    /// retried after 100-300 ms.
    /// </summary>
    public static Dictionary<string, string?> Settings(int maxAttempts = 4) => new()
    {
        ["Callbacks:AllowedHosts:0"] = "127.0.0.1",
        ["Callbacks:AllowedHosts:1"] = "*.example.com",
        ["Callbacks:HttpAllowedHosts:0"] = "127.0.0.1",
        // The receiver is on loopback, an inside address refused at connect time unless a network permits it.
        ["Callbacks:AllowedNetworks:0"] = "127.0.0.0/8",
        ["Callbacks:SigningKey"] = SigningKey,
        ["Callbacks:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Callbacks:InitialBackoff"] = "00:00:00.100",
        ["Callbacks:MaxBackoff"] = "00:00:00.300",
        ["Callbacks:SweepInterval"] = "00:00:00.100",
        ["Callbacks:Timeout"] = "00:00:05",
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One request as the receiver saw it.</summary>
public sealed record ReceivedCallback(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>The whole payload: <c>type</c>, <c>timestamp</c> and <c>data</c>.</summary>
    public JsonElement Envelope => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>The payload's <c>data</c>: the job.</summary>
    public JsonElement Data => Envelope.GetProperty("data");

    /// <summary>
    /// What a receiver does: recompute <c>sha256=hex(HMAC-SHA256(key, "&lt;timestamp&gt;.&lt;body&gt;"))</c> over the
    /// bytes received and compare in constant time. Written here independently of the product's code.
    /// </summary>
    public bool SignatureVerifies(string key) => SignatureVerifiesWithSecret(Encoding.UTF8.GetBytes(key));

    /// <summary><see cref="SignatureVerifies"/> with the secret's bytes (a whsec_ key's decoded base64).</summary>
    public bool SignatureVerifiesWithSecret(byte[] secret)
    {
        var message = Encoding.UTF8.GetBytes(Headers["X-FlightDelay-Timestamp"] + ".").Concat(Body).ToArray();
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, message));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Headers["X-FlightDelay-Signature"]));
    }
}
