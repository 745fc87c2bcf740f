using System.Net;
using System.Text.Json;

namespace FlightDelay.Tests.Support;

/// <summary>An Open Inference Protocol error as its OpenAPI declares it: <c>application/json</c> <c>{"error": "..."}</c>.</summary>
internal static class V2Error
{
    /// <summary>Asserts the status, the media type and the shape; returns it as a <see cref="Problem"/> whose detail is the error.</summary>
    public static async Task<Problem> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(["error"], root.EnumerateObject().Select(p => p.Name));
        return new Problem((int)expected, "", root.GetProperty("error").GetString()!, root);
    }
}
