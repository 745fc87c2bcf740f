using System.Net;
using System.Text.Json;

namespace FlightDelay.Tests.Support;

/// <summary>An RFC 9457 problem body as the API sends it.</summary>
internal sealed record Problem(int Status, string Title, string Detail, JsonElement Root)
{
    /// <summary>Asserts the status code and the problem content type, and returns the body.</summary>
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)expected, root.GetProperty("status").GetInt32());
        return new Problem(
            root.GetProperty("status").GetInt32(),
            root.GetProperty("title").GetString()!,
            root.TryGetProperty("detail", out var detail) ? detail.GetString()! : "",
            root);
    }

    public IReadOnlyDictionary<string, string[]> Errors =>
        Root.TryGetProperty("errors", out var errors)
            ? errors.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(v => v.GetString()!).ToArray())
            : new Dictionary<string, string[]>();
}
