using System.Buffers;
using System.Globalization;
using System.Text;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// CSV uploads, line by line as they stream in. Two layouts, told apart by the first line:
/// a header <c>airline,flightType,month</c> (any order, any case) with named flights, or 37 numeric columns
/// with or without a header line. Reads CSV as spreadsheets write it (RFC 4180): LF, CRLF or CR line ends, a UTF-8 byte
/// order mark, quoted fields that hold commas, doubled quotes or line ends, and blank lines.
/// </summary>
internal sealed class CsvUploadParser(int maxLineBytes) : IUploadParser
{
    private enum Layout { Unknown, Named, Raw }

    private Layout _layout;
    private int _line;
    private int _nextLine = 1;
    private int _airlineColumn, _typeColumn, _monthColumn;
    // The current line: decoded into _lineChars, its fields unquoted back to back into _text, each field's place in
    // _fields (only the first 37 are kept; _fieldCount counts them all). Reused for every line: a million-row upload
    // allocates nothing per row.
    private char[] _lineChars = new char[256];
    private char[] _text = new char[256];
    private readonly Range[] _fields = new Range[FlightSchema.FeatureCount];
    private int _fieldCount;

    public SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, RowSink sink)
    {
        var reader = new SequenceReader<byte>(buffer);
        while (!sink.IsFull && !sink.ShouldStop)
        {
            var before = reader;
            if (!TryReadRecord(ref reader, isFinal, out var record, out var lineBreaks))
            {
                reader = before;
                if (!isFinal && reader.Remaining > maxLineBytes)
                    sink.Fail($"line {_nextLine}", $"A line is longer than {maxLineBytes} bytes.");
                break;
            }
            if (record.Length > maxLineBytes)
            {
                sink.Fail($"line {_nextLine}", $"A line is longer than {maxLineBytes} bytes.");
                break;
            }
            _line = _nextLine;
            _nextLine += 1 + lineBreaks;
            ParseLine(record, sink);
        }
        return reader.Position;
    }

    /// <summary>
    /// The next record (RFC 4180, as spreadsheets write it): up to a line end outside quotes, LF, CRLF or a lone CR;
    /// a quoted field may hold line ends. False when the buffer ends before the record does and more is to come, or
    /// when nothing is left. <paramref name="lineBreaks"/> counts the line ends inside quotes, for line numbers.
    /// </summary>
    private static bool TryReadRecord(ref SequenceReader<byte> reader, bool isFinal, out ReadOnlySequence<byte> record, out int lineBreaks)
    {
        var start = reader.Position;
        var quoted = false;
        lineBreaks = 0;
        while (true)
        {
            var span = reader.UnreadSpan;
            if (span.IsEmpty)
            {
                record = reader.Sequence.Slice(start, reader.Position);
                return isFinal && record.Length > 0;
            }
            // Searching only for what can change the state keeps the common, unquoted line one vectorized scan.
            var i = quoted ? span.IndexOfAny((byte)'"', (byte)'\n') : span.IndexOfAny((byte)'"', (byte)'\r', (byte)'\n');
            if (i < 0)
            {
                reader.Advance(span.Length);
                continue;
            }
            var found = span[i];
            if (found == (byte)'"' || quoted)
            {
                reader.Advance(i + 1);
                if (found == (byte)'"') quoted = !quoted; // a doubled quote flips twice: still inside
                else lineBreaks++;
                continue;
            }
            reader.Advance(i);
            record = reader.Sequence.Slice(start, reader.Position);
            reader.Advance(1);
            if (found == (byte)'\r')
            {
                if (reader.TryPeek(out var next))
                {
                    if (next == (byte)'\n') reader.Advance(1);
                }
                else if (!isFinal)
                {
                    return false; // a CR at the end of the buffer: the LF that may follow is not here yet
                }
            }
            return true;
        }
    }

    private void ParseLine(ReadOnlySequence<byte> bytes, RowSink sink)
    {
        var text = Decode(bytes);
        if (_line == 1 && text.StartsWith('\uFEFF')) text = text[1..];
        if (text.EndsWith('\r')) text = text[..^1];
        if (text.IsWhiteSpace()) return;
        if (!Split(text))
        {
            sink.Reject(Where(sink.NextRow), "An opening quote is never closed.");
            return;
        }

        if (_layout == Layout.Unknown && DetectLayout(sink)) return;

        if (_layout == Layout.Named)
            ParseNamed(sink);
        else
            ParseRaw(sink);
    }

    private ReadOnlySpan<char> Field(int index) => _text.AsSpan(_fields[index]);

    /// <summary>Reads the first line; returns true when it was a header (so it is not a row).</summary>
    private bool DetectLayout(RowSink sink)
    {
        var names = Enumerable.Range(0, Math.Min(_fieldCount, _fields.Length)).Select(i => Field(i).Trim().ToString()).ToList();
        int Column(string name) => names.FindIndex(n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (_fieldCount == 3 && Column("airline") >= 0 && Column("flightType") >= 0 && Column("month") >= 0)
        {
            (_layout, _airlineColumn, _typeColumn, _monthColumn) = (Layout.Named, Column("airline"), Column("flightType"), Column("month"));
            return true;
        }
        if (_fieldCount == FlightSchema.FeatureCount)
        {
            _layout = Layout.Raw;
            // A header of 37 names, or the first row already.
            return names.Any(n => !float.TryParse(n, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        }
        if (names.Any(n => n.Contains('\0')))
        {
            sink.Fail(Where(1), "The upload looks like UTF-16 or UTF-32 without a byte order mark. Send UTF-8, or say which encoding it is: Content-Type: text/csv; charset=utf-16le (or utf-16be, utf-32le).");
            _layout = Layout.Raw;
            return true;
        }
        sink.Fail(Where(1),
            $"Unrecognized first line ({_fieldCount} columns). Send a header 'airline,flightType,month' with named flights, or {FlightSchema.FeatureCount} numeric feature columns (with or without a header).");
        _layout = Layout.Raw;
        return true;
    }

    private void ParseNamed(RowSink sink)
    {
        if (_fieldCount != 3)
        {
            sink.Reject(Where(sink.NextRow), $"Expected 3 columns (airline, flightType, month), found {_fieldCount}.");
            return;
        }
        var monthText = Field(_monthColumn).Trim();
        int? month = int.TryParse(monthText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : null;
        var row = sink.NextRow;
        var errors = month is null && monthText.Length > 0
            ? [new FieldError("month", $"month '{monthText}' is not a whole number; accepted values: 1 to 12.")]
            : FlightSchema.TryEncode(Field(_airlineColumn), Field(_typeColumn), month, sink.NextSlot());
        if (errors.Count == 0)
            sink.Commit();
        else
            sink.Reject(Where(row), string.Join(" ", errors.Select(e => e.Message)));
    }

    private void ParseRaw(RowSink sink)
    {
        var row = sink.NextRow;
        if (_fieldCount != FlightSchema.FeatureCount)
        {
            sink.Reject(Where(row), $"Expected {FlightSchema.FeatureCount} numeric columns, found {_fieldCount}.");
            return;
        }
        var slot = sink.NextSlot();
        for (var i = 0; i < _fieldCount; i++)
        {
            if (!float.TryParse(Field(i), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            {
                sink.Reject(Where(row), $"Column {i + 1} ('{Truncate(Field(i))}') is not a finite number.");
                return;
            }
            slot[i] = value;
        }
        sink.Commit();
    }

    private string Where(int row) => $"row {row} (line {_line})";

    /// <summary>Splits one line into fields; quoted fields may hold commas and doubled quotes. False for an unclosed quote.</summary>
    private bool Split(ReadOnlySpan<char> line)
    {
        if (_text.Length < line.Length) _text = new char[Math.Max(line.Length, _text.Length * 2)];
        _fieldCount = 0;
        int start = 0, length = 0;
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c != '"') _text[length++] = c;
                else if (i + 1 < line.Length && line[i + 1] == '"') { _text[length++] = '"'; i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { AddField(start, length); start = length; }
            else _text[length++] = c;
        }
        AddField(start, length);
        return !quoted;
    }

    private void AddField(int start, int end)
    {
        if (_fieldCount < _fields.Length) _fields[_fieldCount] = start..end;
        _fieldCount++;
    }

    /// <summary>The line as UTF-16, in a buffer reused from line to line (invalid UTF-8 becomes U+FFFD, as a string would).</summary>
    private ReadOnlySpan<char> Decode(ReadOnlySequence<byte> bytes)
    {
        var needed = checked((int)bytes.Length);
        if (_lineChars.Length < needed) _lineChars = new char[Math.Max(needed, _lineChars.Length * 2)];
        var count = Encoding.UTF8.GetChars(bytes, _lineChars);
        return _lineChars.AsSpan(0, count);
    }

    private static string Truncate(ReadOnlySpan<char> value) => value.Length <= 40 ? value.ToString() : string.Concat(value[..40], "…");
}
