using System.Buffers;
using System.Globalization;
using FlightDelay.Scoring;
using Parquet;
using Parquet.Schema;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// Apache Parquet uploads (Parquet.Net). A Parquet file's schema and row-group index are in its footer, so the upload
/// is kept in a temporary file as it streams (deleted when the parser is disposed) and read after it ends, one row
/// group at a time: memory holds one row group's columns, never the file. Two layouts, as for CSV: columns named
/// <c>airline</c>, <c>flightType</c> and <c>month</c> (any case; other columns, such as an id to join results back
/// on, are ignored; <c>month</c> may be an integer, a floating point number holding a whole number, or text), or
/// exactly 37 numeric columns in feature order. A row is numbered by its place in the file across row groups.
/// </summary>
internal sealed class ParquetUploadParser : IUploadParser, IAsyncDisposable
{
    private FileStream? _file;
    private ParquetReader? _reader;
    private DataField? _airline, _flightType, _month;
    private DataField[]? _features;
    private int _group = -1;

    // The current row group's columns, and the next row of it to add.
    private int _groupRows, _next;
    private string?[] _airlines = [], _flightTypes = [];
    private double?[] _months = [];
    private string?[]? _monthTexts;
    private double?[][] _columns = [];

    public SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, RowSink sink)
    {
        _file ??= new FileStream(Path.Combine(Path.GetTempPath(), $"flightdelay-upload-{Guid.NewGuid():N}.parquet"), FileMode.CreateNew,
            FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        foreach (var segment in buffer)
            _file.Write(segment.Span);
        return buffer.End;
    }

    public async ValueTask<bool> ReadHeldRowsAsync(RowSink sink, CancellationToken cancellationToken)
    {
        if (_reader is null && !await OpenAsync(sink, cancellationToken))
            return false;
        while (!sink.IsFull && !sink.ShouldStop)
        {
            if (_next == _groupRows)
            {
                if (_group + 1 == _reader!.RowGroupCount) return false;
                try
                {
                    await ReadGroupAsync(++_group, cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or InvalidOperationException or NotSupportedException or ArgumentException)
                {
                    sink.Fail($"row group {_group + 1}", $"Row group {_group + 1} of the Parquet file cannot be read: {ex.Message}");
                    return false;
                }
                continue;
            }
            AddRow(sink, _next++);
        }
        return _next < _groupRows || _group + 1 < _reader!.RowGroupCount;
    }

    public async ValueTask DisposeAsync()
    {
        if (_reader is not null) await _reader.DisposeAsync();
        if (_file is not null) await _file.DisposeAsync();
    }

    /// <summary>Opens the file and picks its layout; false (with the reason in the sink) when it cannot be read.</summary>
    private async Task<bool> OpenAsync(RowSink sink, CancellationToken cancellationToken)
    {
        if (_file is null || _file.Length == 0)
            return false;
        _file.Position = 0;
        try
        {
            _reader = await ParquetReader.CreateAsync(_file, leaveStreamOpen: true, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            sink.Fail("file", $"The upload is not a readable Parquet file: {ex.Message}");
            return false;
        }

        var fields = _reader.Schema.GetDataFields();
        DataField? Named(string name) => fields.FirstOrDefault(f => f.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && !f.IsArray);
        (_airline, _flightType, _month) = (Named("airline"), Named("flightType"), Named("month"));
        if (_airline is not null && _flightType is not null && _month is not null)
        {
            foreach (var field in new[] { _airline, _flightType, _month })
            {
                if (IsNumber(field) || IsText(field)) continue;
                sink.Fail($"column {field.Name}", $"Column '{field.Name}' holds {field.ClrType.Name} values; send airline and flightType as text, month as a whole number (or text) from 1 to 12.");
                return false;
            }
            return true;
        }
        if (fields.Length == FlightSchema.FeatureCount && fields.All(f => IsNumber(f) && !f.IsArray))
        {
            _features = fields;
            return true;
        }
        sink.Fail("schema",
            $"Unrecognized columns ({string.Join(", ", fields.Select(f => f.Name))}). Send columns airline, flightType and month (other columns are ignored), " +
            $"or {FlightSchema.FeatureCount} numeric feature columns.");
        return false;
    }

    private async Task ReadGroupAsync(int index, CancellationToken cancellationToken)
    {
        using var group = _reader!.OpenRowGroupReader(index);
        _groupRows = checked((int)group.RowCount);
        _next = 0;
        if (_features is null)
        {
            _airlines = await ReadTextAsync(group, _airline!, cancellationToken);
            _flightTypes = await ReadTextAsync(group, _flightType!, cancellationToken);
            if (IsText(_month!)) _monthTexts = await ReadTextAsync(group, _month!, cancellationToken);
            else _months = await ReadNumbersAsync(group, _month!, cancellationToken);
        }
        else
        {
            _columns = new double?[_features.Length][];
            for (var i = 0; i < _features.Length; i++)
                _columns[i] = await ReadNumbersAsync(group, _features[i], cancellationToken);
        }
    }

    private void AddRow(RowSink sink, int row)
    {
        var where = $"row {sink.NextRow} (row group {_group + 1}, row {row + 1})";
        var slot = sink.NextSlot();
        if (_features is null)
        {
            int? month = null;
            var text = _monthTexts is null ? _months[row]?.ToString(CultureInfo.InvariantCulture) : _monthTexts[row]?.Trim();
            if (_monthTexts is null && _months[row] is { } number)
            {
                if (number == Math.Floor(number) && double.IsFinite(number)) month = (int)Math.Clamp(number, int.MinValue, int.MaxValue);
            }
            else if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                month = parsed;
            }
            if (month is null && !string.IsNullOrEmpty(text))
            {
                sink.Reject(where, $"month '{text}' is not a whole number; accepted values: 1 to 12.");
                return;
            }
            var errors = FlightSchema.TryEncode(_airlines[row], _flightTypes[row], month, slot);
            if (errors.Count == 0) sink.Commit();
            else sink.Reject(where, string.Join(" ", errors.Select(e => e.Message)));
            return;
        }
        for (var i = 0; i < _columns.Length; i++)
        {
            if (_columns[i][row] is not { } value || !double.IsFinite(value) || !float.IsFinite((float)value))
            {
                sink.Reject(where, $"Column {i + 1} ('{_features[i].Name}') is {(_columns[i][row] is null ? "empty" : "not a finite number")}.");
                return;
            }
            slot[i] = (float)value;
        }
        sink.Commit();
    }

    private static readonly Type[] NumberTypes =
        [typeof(int), typeof(long), typeof(short), typeof(sbyte), typeof(byte), typeof(ushort), typeof(uint), typeof(ulong), typeof(float), typeof(double), typeof(decimal)];

    private static bool IsNumber(DataField field) => NumberTypes.Contains(field.ClrType);

    /// <summary>A UTF-8 string column (Parquet.Net reads it as ReadOnlyMemory&lt;char&gt; natively, or as strings).</summary>
    private static bool IsText(DataField field) => field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>);

    private static async Task<string?[]> ReadTextAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        if (IsText(field))
        {
            var values = new string?[group.RowCount];
            await group.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            return values;
        }
        // A number where text is expected (a flight type of 1, say) is refused by name, as in CSV.
        return [.. (await ReadNumbersAsync(group, field, cancellationToken)).Select(v => v?.ToString(CultureInfo.InvariantCulture))];
    }

    /// <summary>A numeric (or text) column as doubles; null for a missing value or text that is not a number.</summary>
    private static Task<double?[]> ReadNumbersAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken) =>
        field.ClrType switch
        {
            var t when t == typeof(int) => ReadAsync<int>(group, field, v => v, cancellationToken),
            var t when t == typeof(long) => ReadAsync<long>(group, field, v => v, cancellationToken),
            var t when t == typeof(short) => ReadAsync<short>(group, field, v => v, cancellationToken),
            var t when t == typeof(sbyte) => ReadAsync<sbyte>(group, field, v => v, cancellationToken),
            var t when t == typeof(byte) => ReadAsync<byte>(group, field, v => v, cancellationToken),
            var t when t == typeof(ushort) => ReadAsync<ushort>(group, field, v => v, cancellationToken),
            var t when t == typeof(uint) => ReadAsync<uint>(group, field, v => v, cancellationToken),
            var t when t == typeof(ulong) => ReadAsync<ulong>(group, field, v => v, cancellationToken),
            var t when t == typeof(float) => ReadAsync<float>(group, field, v => v, cancellationToken),
            var t when t == typeof(double) => ReadAsync<double>(group, field, v => v, cancellationToken),
            var t when t == typeof(decimal) => ReadAsync<decimal>(group, field, v => (double)v, cancellationToken),
            _ when IsText(field) => ReadParsedAsync(group, field, cancellationToken),
            _ => throw new InvalidDataException($"Column '{field.Name}' holds {field.ClrType.Name} values, not numbers."),
        };

    private static async Task<double?[]> ReadAsync<T>(ParquetRowGroupReader group, DataField field, Func<T, double> convert, CancellationToken cancellationToken)
        where T : struct
    {
        var result = new double?[group.RowCount];
        if (field.IsNullable)
        {
            var values = new T?[result.Length];
            await group.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            for (var i = 0; i < values.Length; i++) result[i] = values[i] is { } v ? convert(v) : null;
        }
        else
        {
            var values = new T[result.Length];
            await group.ReadAsync(field, values.AsMemory(), null, cancellationToken);
            for (var i = 0; i < values.Length; i++) result[i] = convert(values[i]);
        }
        return result;
    }

    private static async Task<double?[]> ReadParsedAsync(ParquetRowGroupReader group, DataField field, CancellationToken cancellationToken)
    {
        var values = new string?[group.RowCount];
        await group.ReadAsync(field, values.AsMemory(), null, cancellationToken);
        return [.. values.Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : (double?)null)];
    }
}
