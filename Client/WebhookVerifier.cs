using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FlightDelay.Contracts;

namespace FlightDelay.Client;

/// <summary>
/// Checks a job callback as the Standard Webhooks specification has it, on the raw body bytes before they are parsed:
/// <c>webhook-signature</c> holds one or more <c>v1,&lt;base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"&gt;</c>
/// (several while the service rotates keys), compared in constant time; <c>webhook-timestamp</c> (Unix seconds) must be
/// within <see cref="Tolerance"/> of now, which refuses replays of old notifications.
/// </summary>
/// <example><code>
/// var verifier = new WebhookVerifier(Environment.GetEnvironmentVariable("FLIGHTDELAY_WEBHOOK_SECRET")!);
/// var notification = verifier.Verify(rawBody, request.Headers["webhook-id"], request.Headers["webhook-timestamp"], request.Headers["webhook-signature"]);
/// </code></example>
public sealed class WebhookVerifier
{
    /// <summary>The header names.</summary>
    public const string IdHeader = "webhook-id", TimestampHeader = "webhook-timestamp", SignatureHeader = "webhook-signature";

    private const string SecretPrefix = "whsec_";
    private readonly byte[] _secret;
    private readonly TimeProvider _time;

    /// <summary>A verifier for one signing key.</summary>
    /// <param name="secret">
    /// The service's <c>Callbacks:SigningKey</c>: a Standard Webhooks secret (<c>whsec_</c> and base64), or the plain
    /// string of at least 32 characters it was configured with (its UTF-8 bytes are the key, as the service uses them).
    /// </param>
    /// <param name="tolerance">How far a timestamp may be from now, either way (default 5 minutes, as the specification's libraries).</param>
    /// <param name="time">The clock (tests); default the system's.</param>
    /// <exception cref="ArgumentException">An empty secret, or a <c>whsec_</c> secret that is not base64.</exception>
    public WebhookVerifier(string secret, TimeSpan? tolerance = null, TimeProvider? time = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        try
        {
            _secret = secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? Convert.FromBase64String(secret[SecretPrefix.Length..]) : Encoding.UTF8.GetBytes(secret);
        }
        catch (FormatException ex)
        {
            throw new ArgumentException("A whsec_ secret must be whsec_ followed by base64.", nameof(secret), ex);
        }
        Tolerance = tolerance ?? TimeSpan.FromMinutes(5);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>How far <c>webhook-timestamp</c> may be from now.</summary>
    public TimeSpan Tolerance { get; }

    /// <summary>Verifies a notification and parses it.</summary>
    /// <param name="body">The request body, exactly as received.</param>
    /// <param name="id">The <c>webhook-id</c> header (the job id: the same on every attempt, for deduplication).</param>
    /// <param name="timestamp">The <c>webhook-timestamp</c> header.</param>
    /// <param name="signature">The <c>webhook-signature</c> header.</param>
    /// <returns>The notification: type (<c>job.succeeded</c>, <c>job.failed</c>, <c>job.canceled</c>), when, and the job.</returns>
    /// <exception cref="WebhookVerificationException">A header is missing, the timestamp is out of tolerance, no signature matches, or the verified body is not a notification.</exception>
    public CallbackNotification Verify(ReadOnlySpan<byte> body, string? id, string? timestamp, string? signature)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
            throw new WebhookVerificationException($"Missing {IdHeader}, {TimestampHeader} or {SignatureHeader}.");
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
            throw new WebhookVerificationException($"{TimestampHeader} is not a number of seconds.");
        var sent = DateTimeOffset.FromUnixTimeSeconds(seconds);
        var now = _time.GetUtcNow();
        if (sent < now - Tolerance) throw new WebhookVerificationException("The notification is too old (a replay?).");
        if (sent > now + Tolerance) throw new WebhookVerificationException("The notification's timestamp is in the future.");

        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        var expected = HMACSHA256.HashData(_secret, message);

        var matched = false;
        foreach (var candidate in signature.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = candidate.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || candidate[..comma] != "v1") continue;
            var given = new byte[expected.Length];
            if (Convert.TryFromBase64String(candidate[(comma + 1)..], given, out var length) && length == expected.Length
                && CryptographicOperations.FixedTimeEquals(given, expected))
                matched = true;
        }
        if (!matched) throw new WebhookVerificationException("No signature matches: a wrong secret, or a forged or altered notification.");

        try
        {
            return JsonSerializer.Deserialize<CallbackNotification>(body, ClientJson.Options)
                ?? throw new WebhookVerificationException("The body is null.");
        }
        catch (JsonException ex)
        {
            throw new WebhookVerificationException($"The signed body is not a notification: {ex.Message}", ex);
        }
    }

    /// <summary>Verifies with the headers of a request (any collection of name and values, names matched in any case).</summary>
    /// <exception cref="WebhookVerificationException">As <see cref="Verify(ReadOnlySpan{byte}, string?, string?, string?)"/>.</exception>
    public CallbackNotification Verify(ReadOnlySpan<byte> body, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        string? Header(string name) => headers.Where(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase))
            .SelectMany(h => h.Value).FirstOrDefault();
        return Verify(body, Header(IdHeader), Header(TimestampHeader), Header(SignatureHeader));
    }
}

/// <summary>A callback that is not what the service sent: answer it <c>400</c> (or <c>401</c>) and do not act on it.</summary>
public sealed class WebhookVerificationException : Exception
{
    /// <summary>With what was wrong.</summary>
    public WebhookVerificationException(string message) : base(message) { }

    /// <summary>With what was wrong and the error behind it.</summary>
    public WebhookVerificationException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Without a message.</summary>
    public WebhookVerificationException() { }
}
