using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace FlightDelay.Api.Infrastructure;

/// <summary>
/// What a client reads when its JSON does not fit: System.Text.Json's messages name .NET types
/// (<c>System.Nullable`1[System.Int32]</c>); these name JSON ones. One place for the sync and the job routes.
/// </summary>
internal static partial class JsonErrors
{
    /// <summary>"Invalid JSON at $.flights[0].month (line 1, byte 52): expected a whole number." and the like.</summary>
    public static string Describe(JsonException exception)
    {
        var where = exception.Path is { Length: > 0 } path ? $" at {path}" : "";
        var position = exception.LineNumber is { } line ? $" (line {line + 1}, byte {exception.BytePositionInLine + 1})" : "";
        var message = exception.Message;
        var what = message.StartsWith(WholeNumberConverter.MustBe, StringComparison.Ordinal) ? message
            : ConvertedTo().Match(message) is { Success: true } converted ? $"expected {JsonKind(converted.Groups["type"].Value)}."
            : UnknownProperty().Match(message) is { Success: true } unknown ? $"unknown property '{unknown.Groups["name"].Value}'."
            : RepeatedProperty().Match(message) is { Success: true } repeated ? $"property '{repeated.Groups["name"].Value}' is given twice."
            : FirstSentence(message);
        return $"Invalid JSON{where}{position}: {what}";
    }

    private static string JsonKind(string type) => type switch
    {
        _ when type.Contains("Int32", StringComparison.Ordinal) || type.Contains("Int64", StringComparison.Ordinal) => "a whole number",
        _ when type.EndsWith("[]", StringComparison.Ordinal) || type.Contains("List`1", StringComparison.Ordinal) => "an array",
        _ when type.Contains("Single", StringComparison.Ordinal) || type.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when type.Contains("String", StringComparison.Ordinal) => "a string",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ => "an object of the expected shape",
    };

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..(end + 1)];
    }

    [GeneratedRegex(@"could not be converted to (?<type>\S+?)\.?( |$)")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"^The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex UnknownProperty();

    [GeneratedRegex(@"^Duplicate property '(?<name>[^']*)'")]
    private static partial Regex RepeatedProperty();
}

/// <summary>
/// A whole number from JSON: <c>7</c>, or an integral number written with a fraction, <c>7.0</c> (as numpy and
/// pandas write them); <c>7.5</c> is refused. JSON has one number type, so a client's serializer decides the form.
/// </summary>
internal sealed class WholeNumberConverter : JsonConverter<int?>
{
    /// <summary>How this converter's messages start, so <see cref="JsonErrors.Describe"/> puts the place before them.</summary>
    public const string MustBe = "must be a whole number";

    public override bool HandleNull => true;

    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.Number)
            throw new JsonException($"{MustBe}, not {(reader.TokenType == JsonTokenType.String ? "a string" : reader.TokenType.ToString().ToLowerInvariant())}.");
        if (reader.TryGetInt32(out var value)) return value;
        if (reader.TryGetDouble(out var number) && number == Math.Floor(number) && number is >= int.MinValue and <= int.MaxValue)
            return (int)number;
        throw new JsonException($"{MustBe}; {System.Text.Encoding.UTF8.GetString(reader.ValueSpan)} is not one.");
    }

    public override void Write(Utf8JsonWriter writer, int? value, JsonSerializerOptions options)
    {
        if (value is { } number) writer.WriteNumberValue(number);
        else writer.WriteNullValue();
    }
}
