using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using FlightDelay.Api.Jobs;
using FlightDelay.Api.Predictions;
using FlightDelay.Persistence;
using FlightDelay.Scoring;

namespace FlightDelay.Bench.Micro;

/// <summary>The hot paths of the sync and batch routes, one operation each (per-row figures: divide by the row count).</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 8)]
public class HotPaths
{
    private const int BatchRows = 1000;
    private const int ChunkRows = 10_000;

    private FlightModel _model = null!;
    private CurrentModel _current = null!;
    private ReadOnlySequence<byte> _seedBody;
    private float[] _one = null!;
    private float[] _batch = null!;
    private float[] _chunk = null!;
    private Prediction[] _predictions = null!;
    private byte[] _encodedChunk = null!;
    private byte[] _csvChunk = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = FlightModel.Load(Path.Combine(AppContext.BaseDirectory, "Model"));
        _current = new CurrentModel(_model);
        _one = new float[FlightSchema.FeatureCount];
        FlightSchema.TryEncode("Grupo LATAM", "I", 7, _one);
        _seedBody = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes($"{{\"data\": [{string.Join(", ", _one)}]}}"));

        var random = new Random(1);
        var flights = Enumerable.Range(0, ChunkRows)
            .Select(_ => (FlightSchema.Airlines[random.Next(23)], random.Next(2) == 0 ? "I" : "N", random.Next(1, 13)))
            .ToArray();
        _chunk = new float[ChunkRows * FlightSchema.FeatureCount];
        for (var i = 0; i < ChunkRows; i++)
            FlightSchema.TryEncode(flights[i].Item1, flights[i].Item2, flights[i].Item3, _chunk.AsSpan(i * 37, 37));
        _batch = _chunk[..(BatchRows * FlightSchema.FeatureCount)];
        _predictions = new Prediction[ChunkRows];
        _model.PredictBatch(_chunk, _predictions);
        _encodedChunk = FeatureBytes.Encode(_chunk);
        _csvChunk = Encoding.UTF8.GetBytes("airline,flightType,month\n" + string.Concat(flights.Select(f => $"{f.Item1},{f.Item2},{f.Item3}\n")));
    }

    [Benchmark(Description = "predict_api body: parse 37 numbers")]
    public string? ParseSeedBody() => SeedRequest.TryRead(_seedBody, stackalloc float[FlightSchema.FeatureCount]);

    [Benchmark(Description = "named flight: encode 37 features")]
    public int EncodeNamedFlight() => FlightSchema.TryEncode("Grupo LATAM", "I", 7, stackalloc float[FlightSchema.FeatureCount]).Count;

    [Benchmark(Description = "score 1 row: linear fast path")]
    public Prediction PredictOne() => _model.Predict(_one);

    // What the endpoints do since hot reload: one volatile read of the served model, then the same call.
    [Benchmark(Description = "score 1 row: through CurrentModel")]
    public Prediction PredictOneThroughCurrentModel() => _current.Model.Predict(_one);

    [Benchmark(Description = "score 1 row: pooled ML.NET engine")]
    public Prediction PredictOneWithEngine() => _model.PredictWithEngine(_one);

    [Benchmark(Description = "score 1,000 rows (batch path)")]
    public void PredictBatch() => _model.PredictBatch(_batch, _predictions);

    [Benchmark(Description = "encode 10,000 stored rows")]
    public int EncodeChunk() => FeatureBytes.Encode(_chunk).Length;

    [Benchmark(Description = "decode 10,000 stored rows")]
    public int DecodeChunk() => FeatureBytes.Decode(_encodedChunk, _chunk);

    [Benchmark(Description = "store 10,000 results as a blob")]
    public int EncodeResults()
    {
        var blob = new byte[ChunkRows * ResultBytes.RowBytes];
        for (var i = 0; i < ChunkRows; i++)
            ResultBytes.Write(blob, i, _predictions[i].Delayed, _predictions[i].Probability);
        return blob.Length;
    }

    [Benchmark(Description = "parse 10,000 CSV rows (named)")]
    public int ParseCsvChunk()
    {
        var sink = new RowSink(ChunkRows + 1, int.MaxValue);
        new CsvUploadParser(1 << 20).Parse(new ReadOnlySequence<byte>(_csvChunk), isFinal: true, sink);
        return sink.Rows;
    }
}
