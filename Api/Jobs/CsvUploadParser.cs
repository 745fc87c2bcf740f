using System.Buffers;
using System.Globalization;
using System.Text;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// CSV uploads, line by line as they stream in. Two layouts, told apart by the first line:
/// a header naming airline, flight type and month (any order, any of the spellings <see cref="FlightNames.Column"/> knows,
/// other columns passed through) with named flights, or 37 numeric columns with or without a header line. Reads CSV as
/// spreadsheets write it (RFC 4180): LF, CRLF or CR line ends, a UTF-8 byte order mark, quoted fields that hold
/// delimiters, doubled quotes or line ends, and blank lines; the delimiter is a comma, a semicolon (Excel where the
/// decimal mark is a comma, which then reads decimal commas in raw features too) or a tab, told from the first line or
/// from Excel's <c>sep=;</c> line.
/// </summary>
internal sealed class CsvUploadParser(int maxLineBytes) : IUploadParser
{
    private enum Layout { Unknown, Named, Raw }

    private static readonly string[] NamedFields = ["airline", "flightType", "month"];

    private Layout _layout;
    private int _line;
    private int _nextLine = 1;
    private int _airlineColumn, _typeColumn, _monthColumn;
    // Named layout: the header's column count, and the columns passed through to the results (not blank, not the three).
    private int _headerCount;
    private readonly List<int> _passthroughColumns = [];
    private char _delimiter;
    // The current line: decoded into _lineChars, its fields unquoted back to back into _text, each field's place in
    // _fields (only the first 37 are kept; _fieldCount counts them all). Reused for every line: a million-row upload
    // allocates nothing per row.
    private char[] _lineChars = new char[256];
    private char[] _text = new char[256];
    private Range[] _fields = new Range[FlightSchema.FeatureCount];
    private int _fieldCount;

    /// <summary>
    /// The names of the columns passed through to the results, in order (empty until the header is read, or without any):
    /// the header's, made unique and distinct from the result columns (<see cref="ResultColumns.PassthroughName"/>).
    /// </summary>
    public List<string> PassthroughNames { get; } = [];

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
        if (_delimiter == default)
        {
            // Excel's "sep=;" line names the delimiter and is not a row.
            if (text.Length == 5 && text.StartsWith("sep=", StringComparison.OrdinalIgnoreCase))
            {
                _delimiter = text[4];
                return;
            }
            _delimiter = DetectDelimiter(text);
        }
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

    /// <summary>
    /// The delimiter of a file whose first line is <paramref name="line"/>: the one of comma, semicolon and tab that
    /// occurs most outside quotes (a comma when none does, or on a tie).
    /// </summary>
    private static char DetectDelimiter(ReadOnlySpan<char> line)
    {
        int commas = 0, semicolons = 0, tabs = 0;
        var quoted = false;
        foreach (var c in line)
        {
            if (c == '"') quoted = !quoted;
            else if (quoted) continue;
            else if (c == ',') commas++;
            else if (c == ';') semicolons++;
            else if (c == '\t') tabs++;
        }
        return semicolons > commas && semicolons >= tabs ? ';' : tabs > commas && tabs > semicolons ? '\t' : ',';
    }

    /// <summary>Reads the first line; returns true when it was a header (so it is not a row).</summary>
    private bool DetectLayout(RowSink sink)
    {
        var names = Enumerable.Range(0, _fieldCount).Select(i => Field(i).Trim().ToString()).ToList();
        if (names.Any(n => n.Contains('\0')))
        {
            sink.Fail(Where(1), "The upload looks like UTF-16 or UTF-32 without a byte order mark. Send UTF-8, or say which encoding it is: Content-Type: text/csv; charset=utf-16le (or utf-16be, utf-32le).");
            _layout = Layout.Raw;
            return true;
        }
        var fields = names.Select(n => FlightNames.Column(n)).ToList();
        if (fields.Contains("airline") && fields.Contains("flightType") && fields.Contains("month"))
            return ReadNamedHeader(names, fields, sink);
        if (_fieldCount != FlightSchema.FeatureCount && fields.Any(f => f is not null))
        {
            // Some of the three, not all: say which is missing, and which header may be it misspelt.
            var missing = NamedFields.Where(f => !fields.Contains(f));
            var guesses = names.Where((n, i) => fields[i] is null && n.Length > 0).Select(n => (n, FlightNames.ColumnSuggestion(n)))
                .Where(g => g.Item2.Length > 0).Select(g => $"'{g.n}':{g.Item2}");
            sink.Fail(Where(1), $"The header has no {string.Join(" or ", missing)} column (found: {string.Join(", ", names.Select(n => $"'{n}'"))}). "
                + string.Join(" ", guesses) + " Name the columns airline, flightType and month (or Airline, Flight Type, Month).");
            _layout = Layout.Raw;
            return true;
        }
        if (_fieldCount == FlightSchema.FeatureCount)
        {
            _layout = Layout.Raw;
            // A header of 37 names, or the first row already.
            return names.Any(n => !TryParseNumber(n, out _));
        }
        sink.Fail(Where(1),
            $"Unrecognized first line ({_fieldCount} column{(_fieldCount == 1 ? "" : "s")} separated by {DelimiterName}). Send a header 'airline,flightType,month' with named flights, or {FlightSchema.FeatureCount} numeric feature columns (with or without a header).");
        _layout = Layout.Raw;
        return true;
    }

    private string DelimiterName => _delimiter switch { ';' => "semicolons", '\t' => "tabs", _ => "commas" };

    /// <summary>A header that names the three fields: where each is, and the other columns, which pass through.</summary>
    private bool ReadNamedHeader(List<string> names, List<string?> fields, RowSink sink)
    {
        _layout = Layout.Named;
        foreach (var field in NamedFields)
        {
            var columns = Enumerable.Range(0, names.Count).Where(i => fields[i] == field).ToList();
            if (columns.Count > 1)
            {
                sink.Fail(Where(1), $"Two columns are read as {field}: {string.Join(" and ", columns.Select(i => $"'{names[i]}'"))}. Keep one, or rename the other.");
                return true;
            }
        }
        (_airlineColumn, _typeColumn, _monthColumn) = (fields.IndexOf("airline"), fields.IndexOf("flightType"), fields.IndexOf("month"));
        _headerCount = names.Count;
        for (var i = 0; i < names.Count; i++)
        {
            if (fields[i] is not null || names[i].Length == 0) continue;
            _passthroughColumns.Add(i);
            PassthroughNames.Add(ResultColumns.PassthroughName(names[i], PassthroughNames));
        }
        sink.PassthroughNames = PassthroughNames;
        return true;
    }

    private void ParseNamed(RowSink sink)
    {
        // Spreadsheets pad rows with empty cells past the last column: those are not columns.
        var count = _fieldCount;
        while (count > _headerCount && Field(count - 1).IsWhiteSpace()) count--;
        if (count != _headerCount)
        {
            sink.Reject(Where(sink.NextRow), $"Expected {_headerCount} columns, as in the header, found {count}.");
            return;
        }
        foreach (var column in _passthroughColumns) sink.Pass(Field(column));
        var monthText = Field(_monthColumn).Trim();
        var month = FlightNames.Month(monthText);
        var row = sink.NextRow;
        var errors = month is null && monthText.Length > 0
            ? [new FieldError("month", $"month '{monthText}' is not a month; accepted values: 1 to 12, or a month's name (July, Jul, julio).")]
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
            if (!TryParseNumber(Field(i), out var value))
            {
                sink.Reject(Where(row), $"Column {i + 1} ('{Truncate(Field(i))}') is not a finite number.");
                return;
            }
            slot[i] = value;
        }
        sink.Commit();
    }

    /// <summary>A finite number; with semicolons as delimiter, a decimal comma too (0,5), as such exports write it.</summary>
    private bool TryParseNumber(ReadOnlySpan<char> text, out float value)
    {
        if (float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)) return float.IsFinite(value);
        if (_delimiter != ';' || text.IndexOf(',') < 0 || text.Length > 64) return false;
        Span<char> dotted = stackalloc char[text.Length];
        text.CopyTo(dotted);
        dotted.Replace(',', '.');
        return float.TryParse(dotted, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && float.IsFinite(value);
    }

    private string Where(int row) => $"row {row} (line {_line})";

    /// <summary>Splits one line into fields; quoted fields may hold delimiters and doubled quotes. False for an unclosed quote.</summary>
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
            else if (c == _delimiter) { AddField(start, length); start = length; }
            else _text[length++] = c;
        }
        AddField(start, length);
        return !quoted;
    }

    private void AddField(int start, int end)
    {
        if (_fieldCount == _fields.Length) Array.Resize(ref _fields, _fields.Length * 2);
        _fields[_fieldCount++] = start..end;
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
