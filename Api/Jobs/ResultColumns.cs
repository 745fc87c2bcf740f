using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// The columns of a results file beyond the result itself: the flight's (<c>?include=inputs</c>) and the upload's own
/// columns passed through, so results join back to the rows they came from; how their names are chosen and their
/// values written safely.
/// </summary>
internal static class ResultColumns
{
    /// <summary>Every name a results file gives its own columns, in CSV and JSON spelling.</summary>
    private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
    {
        "row", "delayed", "probability", "model_version", "modelVersion", "airline", "flightType", "month",
    };

    /// <summary>
    /// The results' name for an upload column called <paramref name="header"/>: itself, or <c>input_</c> and itself when a
    /// result column has that name, with <c>_2</c>, <c>_3</c>... when <paramref name="taken"/> already has it.
    /// </summary>
    public static string PassthroughName(string header, IReadOnlyCollection<string> taken)
    {
        var name = Reserved.Contains(header) ? $"input_{header}" : header;
        var unique = name;
        for (var n = 2; taken.Contains(unique, StringComparer.OrdinalIgnoreCase); n++) unique = $"{name}_{n}";
        return unique;
    }

    /// <summary>The job's passed-through column names, or none.</summary>
    public static string[] Passthrough(Persistence.Jobs.Job job) =>
        job.PassthroughColumns is null ? [] : JsonSerializer.Deserialize<string[]>(job.PassthroughColumns) ?? [];

    /// <summary>The stored form of <see cref="Persistence.Jobs.Job.PassthroughColumns"/>: null for none.</summary>
    public static string? Store(IReadOnlyList<string> names) => names.Count == 0 ? null : JsonSerializer.Serialize(names);

    /// <summary>
    /// Appends <c>,value</c> as a CSV field a spreadsheet shows as text: a value that a spreadsheet would run as a
    /// formula (starting with <c>=</c>, <c>+</c>, <c>-</c>, <c>@</c>, tab or carriage return) gets a leading <c>'</c>
    /// unless it is a number, as OWASP's CSV injection guidance says; a value with a comma, quote or line end is quoted.
    /// </summary>
    public static void WriteCsvField(IBufferWriter<byte> writer, ReadOnlySpan<byte> utf8)
    {
        var neutralise = !utf8.IsEmpty && utf8[0] is (byte)'=' or (byte)'+' or (byte)'-' or (byte)'@' or (byte)'\t' or (byte)'\r'
            && !double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        var quote = neutralise || utf8.IndexOfAny(",\"\r\n"u8) >= 0;
        var span = writer.GetSpan(utf8.Length * 2 + 4);
        var at = 0;
        span[at++] = (byte)',';
        if (quote) span[at++] = (byte)'"';
        if (neutralise) span[at++] = (byte)'\'';
        foreach (var b in utf8)
        {
            span[at++] = b;
            if (b == (byte)'"') span[at++] = b;
        }
        if (quote) span[at++] = (byte)'"';
        writer.Advance(at);
    }

    /// <summary>Appends <c>,"name":"value"</c> to a JSON object being written as text.</summary>
    public static void WriteJsonMember(IBufferWriter<byte> writer, JsonEncodedText name, ReadOnlySpan<byte> utf8Value)
    {
        var value = JsonEncodedText.Encode(utf8Value);
        var span = writer.GetSpan(name.EncodedUtf8Bytes.Length + value.EncodedUtf8Bytes.Length + 6);
        var at = 0;
        span[at++] = (byte)',';
        span[at++] = (byte)'"';
        name.EncodedUtf8Bytes.CopyTo(span[at..]);
        at += name.EncodedUtf8Bytes.Length;
        "\":\""u8.CopyTo(span[at..]);
        at += 3;
        value.EncodedUtf8Bytes.CopyTo(span[at..]);
        at += value.EncodedUtf8Bytes.Length;
        span[at++] = (byte)'"';
        writer.Advance(at);
    }

    /// <summary>A CSV header field for a column name, quoted when it must be.</summary>
    public static string CsvHeader(string name) =>
        name.AsSpan().IndexOfAny(",\"\r\n") >= 0 || name.StartsWith('=') || name.StartsWith('+') || name.StartsWith('-') || name.StartsWith('@')
            ? "\"" + (name[0] is '=' or '+' or '-' or '@' ? "'" : "") + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : name;

    /// <summary>The encoding of stored values (UTF-8, as written by the parsers).</summary>
    public static string Text(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);
}
