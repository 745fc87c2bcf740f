using System.Text.Json;

namespace FlightDelay.Client;

/// <summary>The service's JSON: camelCase names, read case-insensitively.</summary>
internal static class ClientJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
