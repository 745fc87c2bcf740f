using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Api.Predictions;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.Infrastructure;

/// <summary>Source-generated JSON for the API's own types: strict numbers, unknown or repeated properties refused.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 16)]
[JsonSerializable(typeof(PredictionRequest))]
[JsonSerializable(typeof(FlightInput))]
[JsonSerializable(typeof(PredictionResponse))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(ModelCardResponse))]
[JsonSerializable(typeof(ModelVersionView))]
[JsonSerializable(typeof(ModelVersionList))]
[JsonSerializable(typeof(ModelQualityView))]
[JsonSerializable(typeof(ModelComparisonView))]
[JsonSerializable(typeof(ModelDriftView))]
[JsonSerializable(typeof(Jobs.OutcomeReportView))]
[JsonSerializable(typeof(Jobs.OutcomeEndpoints.OutcomeLine[]))]
[JsonSerializable(typeof(JobCallbackView))]
internal sealed partial class ApiJsonContext : JsonSerializerContext
{
    /// <summary>Deserializes a whole body; malformed JSON, wrong types and trailing content become a 400 naming the place.</summary>
    public static (T? Value, ProblemHttpResult? Problem) Parse<T>(ReadOnlySequence<byte> body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            var value = JsonSerializer.Deserialize(ref reader, type);
            if (reader.Read())
                return (null, Problems.BadRequest("Unexpected content after the JSON value."));
            return value is null ? (null, Problems.BadRequest("The body is null; a JSON object is expected.")) : (value, null);
        }
        catch (InvalidOperationException ex)
        {
            // Text that is not valid UTF-8.
            return (null, Problems.BadRequest($"Invalid JSON: {ex.Message}"));
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest(JsonErrors.Describe(ex)));
        }
    }
}
