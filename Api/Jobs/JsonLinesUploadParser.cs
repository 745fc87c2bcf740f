using System.Buffers;
using System.Text.Json;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Predictions;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// JSON Lines uploads (<c>application/x-ndjson</c>, <c>application/jsonl</c>): one flight object per line, as
/// <c>/v1/predictions</c> takes them (<c>{"airline": ..., "flightType": ..., "month": ...}</c> or <c>{"features": [...]}</c>).
/// Blank lines are skipped; a line that is not a flight is a row error that names its line.
/// </summary>
internal sealed class JsonLinesUploadParser(int maxLineBytes) : IUploadParser
{
    private int _line;

    public SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, RowSink sink)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (!sink.IsFull && !sink.ShouldStop)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                if (!isFinal)
                {
                    if (reader.Remaining > maxLineBytes)
                        sink.Fail($"line {_line + 1}", $"A line is longer than {maxLineBytes} bytes.");
                    break;
                }
                if (reader.Remaining == 0) break;
                line = reader.UnreadSequence;
                reader.AdvanceToEnd();
            }
            _line++;
            if (line.Length > maxLineBytes)
            {
                sink.Fail($"line {_line}", $"A line is longer than {maxLineBytes} bytes.");
                break;
            }
            ParseLine(line, sink);
        }
        return reader.Position;
    }

    private void ParseLine(ReadOnlySequence<byte> line, RowSink sink)
    {
        if (_line == 1 && line.FirstSpan.StartsWith("\uFEFF"u8)) line = line.Slice(3);
        if (IsBlank(line)) return;
        var where = $"row {sink.NextRow} (line {_line})";
        FlightInput? flight;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 16 });
            flight = JsonSerializer.Deserialize(ref reader, ApiJsonContext.Default.FlightInput);
            reader.Read(); // anything but whitespace after the object throws: one flight per line
        }
        catch (JsonException ex)
        {
            sink.Reject(where, JsonErrors.Describe(ex));
            return;
        }
        catch (InvalidOperationException ex)
        {
            sink.Reject(where, $"Invalid JSON: {ex.Message}"); // text that is not valid UTF-8
            return;
        }
        var errors = flight?.TryEncode(sink.NextSlot()) ?? [new("flight", "A line must hold a flight object, not null.")];
        if (errors.Count == 0)
            sink.Commit();
        else
            sink.Reject(where, string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")));
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r')) return false;
            }
        }
        return true;
    }
}
