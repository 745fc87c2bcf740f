using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Processing.Callbacks;

/// <summary>The body POSTed to a job's callback URL: the same event on every attempt.</summary>
public sealed record CallbackNotification(
    Guid JobId,
    string Status,
    CallbackRows Rows,
    string? FailedReason,
    string? ModelVersion,
    IReadOnlyList<string> ModelVersions,
    DateTime? FinishedAt,
    CallbackLinks Links)
{
    public static CallbackNotification Of(Job job, IReadOnlyList<string> modelVersions, Uri? baseUrl)
    {
        var self = $"/v1/jobs/{job.Id}";
        string Link(string path) => baseUrl is null ? path : new Uri(baseUrl, path).ToString();
        return new CallbackNotification(
            job.Id,
            job.Status.ToString().ToLowerInvariant(),
            new CallbackRows(job.TotalRows, job.ProcessedRows, job.FailedRows),
            job.Status == JobStatus.Failed ? job.Error : null,
            job.ModelVersion,
            modelVersions,
            job.FinishedAt,
            new CallbackLinks(Link(self), Link($"{self}/results"), Link($"{self}/results.csv")));
    }

    public byte[] ToUtf8Json() => JsonSerializer.SerializeToUtf8Bytes(this, CallbackJsonContext.Default.CallbackNotification);
}

public sealed record CallbackRows(int Total, int Processed, int Failed);

public sealed record CallbackLinks(string Status, string Results, string ResultsCsv);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(CallbackNotification))]
internal sealed partial class CallbackJsonContext : JsonSerializerContext;

/// <summary>
/// <c>X-FlightDelay-Signature: sha256=&lt;hex&gt;</c>, the HMAC-SHA256 with the signing key of <c>"&lt;timestamp&gt;.&lt;body&gt;"</c>,
/// where the timestamp is the <c>X-FlightDelay-Timestamp</c> header (Unix seconds): a receiver that checks both the
/// signature and the timestamp's age rejects forged and replayed notifications.
/// </summary>
public static class CallbackSignature
{
    public static string Compute(string key, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), message));
    }
}
