using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlightDelay.Contracts;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Processing.Callbacks;

/// <summary>
/// The body POSTed to a job's callback URL (<see cref="CallbackNotification"/>, a contract the client library's verifier
/// shares), made from the stored job: the same event, byte for byte, on every attempt.
/// </summary>
public static class CallbackNotifications
{
    public static CallbackNotification Of(Job job, IReadOnlyList<string> modelVersions, Uri? baseUrl)
    {
        var self = $"/v1/jobs/{job.Id}";
        string Link(string path) => baseUrl is null ? path : new Uri(baseUrl, path).ToString();
        var status = job.Status.ToString().ToLowerInvariant();
        return new CallbackNotification($"job.{status}", job.FinishedAt ?? job.CreatedAt, new CallbackJob(
            job.Id,
            status,
            new CallbackRows(job.TotalRows, job.ProcessedRows, job.FailedRows),
            job.Status == JobStatus.Failed ? job.Error : null,
            job.ModelVersion,
            modelVersions,
            job.FinishedAt,
            new CallbackLinks(Link(self), Link($"{self}/results"), Link($"{self}/results.csv"))));
    }

    public static byte[] ToUtf8Json(this CallbackNotification notification) =>
        JsonSerializer.SerializeToUtf8Bytes(notification, CallbackJsonContext.Default.CallbackNotification);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CallbackNotification))]
internal sealed partial class CallbackJsonContext : JsonSerializerContext;

/// <summary>
/// Signatures of a callback. <see cref="Standard"/> is the Standard Webhooks one (<c>webhook-signature</c>), which the
/// off-the-shelf verifiers check; <see cref="Legacy"/> is <c>X-FlightDelay-Signature</c>, kept for one release.
/// A key is a secret in the Standard's <c>whsec_&lt;base64&gt;</c> form, or any other string of at least 32 characters,
/// whose UTF-8 bytes are the secret (a verifier library then takes <c>whsec_</c> + the base64 of those bytes).
/// </summary>
public static class CallbackSignature
{
    public const string SecretPrefix = "whsec_";

    /// <summary>The secret bytes of a configured key.</summary>
    /// <exception cref="FormatException">A <c>whsec_</c> key whose rest is not base64.</exception>
    public static byte[] Secret(string key) =>
        key.StartsWith(SecretPrefix, StringComparison.Ordinal) ? Convert.FromBase64String(key[SecretPrefix.Length..]) : Encoding.UTF8.GetBytes(key);

    /// <summary>
    /// <c>v1,&lt;base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"&gt;</c> for each key, space-separated (several while a
    /// key rotates), as the Standard Webhooks specification defines it.
    /// </summary>
    public static string Standard(IEnumerable<string> keys, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var message = Concat(Encoding.UTF8.GetBytes($"{id}.{timestamp}."), body);
        return string.Join(' ', keys.Select(key => "v1," + Convert.ToBase64String(HMACSHA256.HashData(Secret(key), message))));
    }

    /// <summary>
    /// <c>sha256=&lt;hex HMAC-SHA256 of "{timestamp}.{body}"&gt;</c> with the current key, the timestamp being the
    /// <c>X-FlightDelay-Timestamp</c> header (Unix seconds). Deprecated: it does not sign the event id.
    /// </summary>
    public static string Legacy(string key, long timestamp, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Secret(key), Concat(Encoding.UTF8.GetBytes($"{timestamp}."), body)));

    private static byte[] Concat(byte[] prefix, ReadOnlySpan<byte> body)
    {
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return message;
    }
}
