using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using CsvHelper;
using FlightDelay.Api.Jobs;
using FlightDelay.Scoring;
using nietras.SeparatedValues;

namespace FlightDelay.Bench.Micro;

/// <summary>
/// The CSV upload parser (hand-written, <see cref="CsvUploadParser"/>) against maintained parsers, Sep and CsvHelper, on
/// the same 100,000-row named-flight upload (<c>airline,flightType,month</c>), each turning it into the same 37-feature
/// vectors in a <see cref="RowSink"/> as the intake does. Issue 17's rule: take a maintained parser if the upload stays
/// within 10% of today's throughput. Times are per row (<c>OperationsPerInvoke</c>): rows/s = 1e9 / Mean in ns.
/// <c>Quoted</c>: every text field in quotes, as R's write.csv and pandas' QUOTE_NONNUMERIC write them.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class CsvParsers
{
    private const int Rows = 100_000;
    // The intake's default Jobs:ChunkSize: a full sink is staged (here: cleared) and parsing goes on.
    private const int ChunkRows = 50_000;
    // Kestrel hands a request body over in blocks of its memory pool; 4 KiB is what a PipeReader over a stream reads too.
    private const int ReadBytes = 4096;

    private byte[] _csv = null!;

    [Params(false, true)]
    public bool Quoted { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(17);
        var text = new StringBuilder("airline,flightType,month\n");
        for (var i = 0; i < Rows; i++)
        {
            var (airline, type, month) = (FlightSchema.Airlines[random.Next(FlightSchema.Airlines.Count)], random.Next(2) == 0 ? "I" : "N", random.Next(1, 13));
            text.Append(Quoted ? $"\"{airline}\",\"{type}\",{month}\n" : $"{airline},{type},{month}\n");
        }
        _csv = Encoding.UTF8.GetBytes(text.ToString());

        // The comparison means something only if all three produce the same vectors.
        var expected = Vectors(ParseOursAsync);
        if (!expected.AsSpan().SequenceEqual(Vectors(ParseSepAsync)) || !expected.AsSpan().SequenceEqual(Vectors(ParseCsvHelperAsync)))
            throw new InvalidOperationException("The parsers disagree on the feature vectors.");
    }

    // Async throughout, as on the server: Kestrel refuses synchronous reads of a request body.
    [Benchmark(Baseline = true, OperationsPerInvoke = Rows, Description = "CsvUploadParser (ours), PipeReader")]
    public Task<int> Ours() => ParseOursAsync(new RowSink(ChunkRows, int.MaxValue));

    [Benchmark(OperationsPerInvoke = Rows, Description = "Sep 0.18.0, PipeReader.AsStream")]
    public Task<int> Sep() => ParseSepAsync(new RowSink(ChunkRows, int.MaxValue));

    [Benchmark(OperationsPerInvoke = Rows, Description = "CsvHelper 34.0.0, PipeReader.AsStream")]
    public Task<int> CsvHelper() => ParseCsvHelperAsync(new RowSink(ChunkRows, int.MaxValue));

    private PipeReader Body() => PipeReader.Create(new MemoryStream(_csv), new StreamPipeReaderOptions(bufferSize: ReadBytes, minimumReadSize: ReadBytes / 4));

    // The intake's loop (JobIntake.ReadAsync) without hashing and storage: parse what is there, clear a full sink, read on.
    private async Task<int> ParseOursAsync(RowSink sink)
    {
        var body = Body();
        var parser = new CsvUploadParser(1 << 20);
        while (true)
        {
            var read = await body.ReadAsync();
            var buffer = read.Buffer;
            var consumed = parser.Parse(buffer, read.IsCompleted, sink);
            body.AdvanceTo(consumed, sink.IsFull ? consumed : buffer.End);
            var done = read.IsCompleted && consumed.Equals(buffer.End);
            if (sink.IsFull || (done && sink.Pending > 0)) Stage(sink);
            if (done) return Check(sink);
        }
    }

    private async Task<int> ParseSepAsync(RowSink sink)
    {
        using var reader = await nietras.SeparatedValues.Sep.Reader(o => o with { Unescape = true }).FromAsync(Body().AsStream());
        var (airline, type, month) = Columns(reader.Header.ColNames);
        await foreach (var row in reader)
        {
            Encode(row[airline].Span, row[type].Span, row[month].Span, sink);
            if (sink.IsFull) Stage(sink);
        }
        if (sink.Pending > 0) Stage(sink);
        return Check(sink);
    }

    // CsvHelper 34 reads UTF-8 bytes itself; fields are copied out as UTF-16 for the schema (names are short).
    private async Task<int> ParseCsvHelperAsync(RowSink sink)
    {
        await using var reader = CsvReader.Create(Body().AsStream(), CsvReaderOptions.Default, leaveOpen: false);
        await reader.ReadHeaderAsync();
        var (airline, type, month) = Columns([.. reader.Headers]);
        var fields = new char[3 * 64];
        while (await reader.ReadAsync())
        {
            Span<char> a = fields.AsSpan(0, 64), t = fields.AsSpan(64, 64), m = fields.AsSpan(128, 64);
            Encode(a[..reader.GetChars(airline, a)], t[..reader.GetChars(type, t)], m[..reader.GetChars(month, m)], sink);
            if (sink.IsFull) Stage(sink);
        }
        if (sink.Pending > 0) Stage(sink);
        return Check(sink);
    }

    // As the upload parser reads a named row: the header's columns in any order and case, month trimmed, then the schema.
    private static (int Airline, int Type, int Month) Columns(IReadOnlyList<string> names)
    {
        int Column(string name) => names.ToList().FindIndex(n => n.Trim().Equals(name, StringComparison.OrdinalIgnoreCase));
        return (Column("airline"), Column("flightType"), Column("month"));
    }

    private static void Encode(ReadOnlySpan<char> airline, ReadOnlySpan<char> type, ReadOnlySpan<char> monthText, RowSink sink)
    {
        int? month = int.TryParse(monthText.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) ? m : null;
        if (FlightSchema.TryEncode(airline, type, month, sink.NextSlot()).Count == 0) sink.Commit();
        else sink.Reject("row", "invalid");
    }

    private float[]? _staged;

    // Stands in for the intake's staging of a full chunk; keeps the batch when a test run asks for it.
    private void Stage(RowSink sink)
    {
        if (_staged is not null)
            sink.Batch.Span.CopyTo(_staged.AsSpan((sink.BatchFirstRow - 1) * FlightSchema.FeatureCount));
        sink.Clear();
    }

    private static int Check(RowSink sink) =>
        sink.Rows == Rows && sink.Errors.Count == 0 ? sink.Rows : throw new InvalidOperationException($"{sink.Rows} rows, {sink.Errors.Count} errors");

    private float[] Vectors(Func<RowSink, Task<int>> parse)
    {
        _staged = new float[Rows * FlightSchema.FeatureCount];
        parse(new RowSink(ChunkRows, int.MaxValue)).GetAwaiter().GetResult();
        var vectors = _staged;
        _staged = null;
        return vectors;
    }
}
