using System.Buffers;
using System.Text.Json;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Predictions;

/// <summary>
/// Reads the seed's body, <c>{"data": [37 numbers]}</c>, straight from the request bytes into a feature span.
/// Hand-rolled on <see cref="Utf8JsonReader"/>: it is the hot path, and every way a body can be wrong gets its own message.
/// </summary>
internal static class SeedRequest
{
    private const string Shape = "expected {\"data\": [37 numbers]}";

    /// <summary>Fills <paramref name="features"/> (length 37); returns what is wrong with the body, or null.</summary>
    public static string? TryRead(ReadOnlySequence<byte> body, Span<float> features)
    {
        if (body.IsEmpty)
            return $"The body is empty; {Shape}.";

        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
        try
        {
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
                return $"The body is not a JSON object; {Shape}.";

            var count = -1;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("data"u8))
                    return $"Unexpected property '{reader.GetString()}'; {Shape}.";
                if (count >= 0)
                    return "Property 'data' appears more than once.";

                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                    return $"'data' is null; {Shape}.";
                if (reader.TokenType != JsonTokenType.StartArray)
                    return $"'data' is {Describe(reader.TokenType)}; {Shape}.";

                count = 0;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.Number)
                        return $"data[{count}] is {Describe(reader.TokenType)}; every element must be a number.";
                    if (!reader.TryGetDouble(out var value) || !double.IsFinite(value) || Math.Abs(value) > float.MaxValue)
                        return $"data[{count}] is out of range; every element must be a finite number.";
                    if (count < FlightSchema.FeatureCount)
                        features[count] = (float)value;
                    count++;
                }
            }

            if (reader.Read())
                return "Unexpected content after the JSON object.";
            if (count < 0)
                return $"Missing 'data'; {Shape}.";
            if (count != FlightSchema.FeatureCount)
                return $"'data' must have exactly {FlightSchema.FeatureCount} numbers; received {count}.";
            return null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a property name that is not valid UTF-8.
            return $"Malformed JSON: {ex.Message}";
        }
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "a string",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.Number => "a number",
        _ => token.ToString(),
    };
}
