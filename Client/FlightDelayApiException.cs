using System.Net;
using System.Text.Json;
using FlightDelay.Contracts;

namespace FlightDelay.Client;

/// <summary>
/// The service answered with an error: an RFC 9457 problem (<c>application/problem+json</c>) when it gave one, else the
/// bare status. Connection failures are not this but <see cref="HttpRequestException"/>.
/// </summary>
public sealed class FlightDelayApiException : Exception
{
    /// <summary>Creates the exception for an answer (tests and callers building their own requests).</summary>
    public FlightDelayApiException(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null,
        IReadOnlyList<JobRowErrorView>? rows = null, string? type = null, TimeSpan? retryAfter = null, string? body = null)
        : base(Describe(status, title, detail))
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>();
        Rows = rows ?? [];
        Type = type;
        RetryAfter = retryAfter;
        Body = body;
    }

    /// <summary>The HTTP status: 400 (invalid request or upload), 401 (no valid API key), 404 (no such job, or not yours), 409 (conflict: the job is not in a state for it, or an Idempotency-Key reused with another body), 413 (too large), 415 (unsupported media type or coding), 429 (rate limited), 503 (too much work queued).</summary>
    public HttpStatusCode Status { get; }

    /// <summary>The problem's <c>status</c> as a number.</summary>
    public int StatusCode => (int)Status;

    /// <summary>The problem's <c>title</c>: a short summary of the kind of problem.</summary>
    public string? Title { get; }

    /// <summary>The problem's <c>detail</c>: what was wrong with this request.</summary>
    public string? Detail { get; }

    /// <summary>The problem's <c>type</c> URI, when it has one.</summary>
    public string? Type { get; }

    /// <summary>Field errors of a <c>400</c>, keyed like <c>flights[3].airline</c>; empty when there are none.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>An upload refused for invalid rows: the first problems (up to 20), each with its row, where and why; empty otherwise.</summary>
    public IReadOnlyList<JobRowErrorView> Rows { get; }

    /// <summary>The answer's <c>Retry-After</c>, when it had one (<c>429</c>, <c>503</c>, a <c>409</c> for a submission still uploading).</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The answer's body as text (at most 64 KiB), for logs.</summary>
    public string? Body { get; }

    private static string Describe(HttpStatusCode status, string? title, string? detail) =>
        $"{(int)status} {title ?? status.ToString()}{(string.IsNullOrEmpty(detail) ? "" : $": {detail}")}";

    /// <summary>Reads an error answer into the exception (a problem body if it is one).</summary>
    internal static async Task<FlightDelayApiException> FromAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string? body = null;
        try
        {
            body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (body.Length > 65536) body = body[..65536];
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The body did not arrive: the status says what there is to say.
        }
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        string? title = null, detail = null, type = null;
        Dictionary<string, string[]>? errors = null;
        List<JobRowErrorView>? rows = null;
        if (!string.IsNullOrWhiteSpace(body) && body.TrimStart().StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                title = Text(root, "title");
                detail = Text(root, "detail");
                type = Text(root, "type");
                if (root.TryGetProperty("errors", out var e) && e.ValueKind == JsonValueKind.Object)
                    errors = e.EnumerateObject().ToDictionary(p => p.Name,
                        p => p.Value.ValueKind == JsonValueKind.Array ? [.. p.Value.EnumerateArray().Select(v => v.ToString())] : new[] { p.Value.ToString() });
                if (root.TryGetProperty("rows", out var r) && r.ValueKind == JsonValueKind.Array)
                    rows = r.Deserialize<List<JobRowErrorView>>(ClientJson.Options);
            }
            catch (JsonException)
            {
                // Not a problem document after all: keep the text.
            }
        }
        return new FlightDelayApiException(response.StatusCode, title ?? response.ReasonPhrase, detail, errors, rows, type, retryAfter, body);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
