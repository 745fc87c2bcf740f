using System.Buffers;
using System.Text.Json;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Predictions;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// JSON uploads, <c>{"flights": [flight, ...]}</c> as for <c>/v1/predictions</c>, read flight by flight as the
/// bytes arrive: each flight is deserialized once it is complete in the buffer, so the body is never held whole.
/// </summary>
internal sealed class JsonUploadParser(int maxFlightBytes) : IUploadParser
{
    private enum Phase { Start, Property, Array, AfterArray, End }

    private static readonly JsonReaderOptions Options = new() { MaxDepth = 16 };
    private JsonReaderState _state = new(Options);
    private Phase _phase;
    private bool _sawByteOrderMark;

    public SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, RowSink sink)
    {
        if (isFinal && _phase == Phase.Start && buffer.IsEmpty)
        {
            sink.Fail("", "The body is empty; expected {\"flights\": [...]}.");
            return buffer.Start;
        }
        if (!_sawByteOrderMark)
        {
            if (buffer.Length < 3 && !isFinal) return buffer.Start; // not enough to tell a byte order mark yet
            _sawByteOrderMark = true;
            if (buffer.Length >= 3 && buffer.Slice(0, 3).ToArray().AsSpan().SequenceEqual("\uFEFF"u8)) buffer = buffer.Slice(3);
        }

        var reader = new Utf8JsonReader(buffer, isFinal, _state);
        try
        {
            Run(ref reader, sink, isFinal);
        }
        catch (JsonException ex)
        {
            sink.Fail($"flights[{sink.Rows}]", JsonErrors.Describe(ex));
        }
        catch (InvalidOperationException ex)
        {
            // The reader's string accessors throw this for text that is not valid UTF-8.
            sink.Fail($"flights[{sink.Rows}]", $"Invalid JSON: {ex.Message}");
        }
        _state = reader.CurrentState;
        var consumed = buffer.GetPosition(reader.BytesConsumed);
        if (!isFinal && reader.BytesConsumed == 0 && buffer.Length > maxFlightBytes)
            sink.Fail($"flights[{sink.Rows}]", $"A single flight is larger than {maxFlightBytes} bytes.");
        return consumed;
    }

    private void Run(ref Utf8JsonReader reader, RowSink sink, bool isFinal)
    {
        while (!sink.IsFull && !sink.ShouldStop)
        {
            var before = reader;
            if (!reader.Read())
            {
                reader = before;
                if (isFinal && _phase != Phase.End)
                    sink.Fail($"flights[{sink.Rows}]", _phase == Phase.Start ? "The body is empty; expected {\"flights\": [...]}." : "The JSON ends before the flights array and object are closed.");
                return;
            }

            switch (_phase, reader.TokenType)
            {
                case (Phase.Start, JsonTokenType.StartObject):
                    _phase = Phase.Property;
                    break;
                // Property names match case-insensitively, as the sync routes' reader (JsonSerializerDefaults.Web) does.
                case (Phase.Property, JsonTokenType.PropertyName) when string.Equals(reader.GetString(), "flights", StringComparison.OrdinalIgnoreCase):
                    if (!reader.Read())
                    {
                        reader = before;
                        return;
                    }
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        sink.Fail("flights", "'flights' must be an array of flights.");
                        return;
                    }
                    _phase = Phase.Array;
                    break;
                case (Phase.Array, JsonTokenType.EndArray):
                    _phase = Phase.AfterArray;
                    break;
                case (Phase.Array, JsonTokenType.StartObject):
                    var probe = reader;
                    if (!probe.TrySkip())
                    {
                        reader = before; // the flight is not complete yet: wait for more bytes
                        return;
                    }
                    try
                    {
                        AddFlight(JsonSerializer.Deserialize(ref reader, ApiJsonContext.Default.FlightInput), sink);
                    }
                    catch (JsonException ex)
                    {
                        // A flight that does not fit (a string for a month, an unknown property) is one bad row: skip
                        // past it, as JSON Lines does a line, so the answer lists every bad row, not just the first.
                        reader = probe;
                        sink.Reject($"row {sink.NextRow} (flights[{sink.Rows}])", JsonErrors.Describe(ex));
                    }
                    break;
                case (Phase.Array, _):
                    if (!reader.TrySkip())
                    {
                        reader = before;
                        return;
                    }
                    sink.Reject($"row {sink.NextRow} (flights[{sink.Rows}])", $"A flight must be an object, not {reader.TokenType}.");
                    break;
                case (Phase.AfterArray, JsonTokenType.EndObject):
                    _phase = Phase.End;
                    break;
                case (Phase.Start, _):
                    sink.Fail("", "The body must be a JSON object {\"flights\": [...]}.");
                    return;
                case (Phase.Property or Phase.AfterArray, JsonTokenType.PropertyName):
                    sink.Fail("", $"Unexpected property '{reader.GetString()}'; the body is {{\"flights\": [...]}}.");
                    return;
                case (Phase.Property, JsonTokenType.EndObject):
                    sink.Fail("flights", "Missing 'flights'; the body is {\"flights\": [...]}.");
                    return;
                default:
                    sink.Fail("", $"Unexpected JSON token {reader.TokenType}.");
                    return;
            }
        }
    }

    private static void AddFlight(FlightInput? flight, RowSink sink)
    {
        var where = $"row {sink.NextRow} (flights[{sink.Rows}])";
        var errors = flight?.TryEncode(sink.NextSlot()) ?? [new("flight", "A flight must be an object.")];
        if (errors.Count == 0)
            sink.Commit();
        else
            sink.Reject(where, string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")));
    }
}
