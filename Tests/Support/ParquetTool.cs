using System.Text.Json;

namespace FlightDelay.Tests.Support;

/// <summary>
/// Apache Arrow's Parquet implementation (arrow-rs compiled as the npm <c>parquet-wasm</c>, with Arrow JS), run by Node
/// from <c>Tests/Jobs/parquet-tool</c> (scripts/test installs it with <c>npm ci</c>): Parquet files written and read as
/// data tools do, not by the library the service uses.
/// </summary>
public static class ParquetTool
{
    private static readonly string Folder = Path.Combine(TestFiles.RepositoryRoot, "Tests", "Jobs", "parquet-tool");

    /// <summary>One column to write: an Arrow type (<c>utf8</c>, <c>int64</c>, <c>int32</c>, <c>float64</c>, <c>bool</c>) and its values (nulls allowed).</summary>
    public sealed record Column(string Type, IReadOnlyList<object?> Values);

    /// <summary>
    /// A Parquet file of these columns, in this order, with <paramref name="compression"/> (<c>UNCOMPRESSED</c>,
    /// <c>SNAPPY</c>, <c>GZIP</c>, <c>ZSTD</c>, ...) and at most <paramref name="rowsPerGroup"/> rows per row group.
    /// </summary>
    public static async Task<byte[]> WriteAsync(IReadOnlyDictionary<string, Column> columns, string compression = "SNAPPY", int rowsPerGroup = 1024 * 1024)
    {
        var file = Path.GetTempFileName();
        try
        {
            var spec = JsonSerializer.Serialize(columns.ToDictionary(c => c.Key, c => new { type = c.Value.Type, values = c.Value.Values }));
            await RunAsync(spec, "write", file, compression, rowsPerGroup.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return await File.ReadAllBytesAsync(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>A Parquet file's columns (name and Arrow type, as <c>Int32</c>, <c>Utf8</c>) and rows.</summary>
    public static async Task<(IReadOnlyList<(string Name, string Type)> Columns, IReadOnlyList<JsonElement> Rows)> ReadAsync(byte[] parquet)
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, parquet);
            var output = JsonDocument.Parse(await RunAsync(null, "read", file)).RootElement;
            return ([.. output.GetProperty("columns").EnumerateArray().Select(c => (c.GetProperty("name").GetString()!, c.GetProperty("type").GetString()!))],
                [.. output.GetProperty("rows").EnumerateArray()]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task<string> RunAsync(string? input, params string[] arguments)
    {
        var (exitCode, output, errors) = await NodeScript.RunAsync(Folder, "parquet-wasm", "parquet.mjs", input ?? "", TimeSpan.FromSeconds(60), arguments);
        return exitCode == 0 ? output : throw new InvalidOperationException($"node parquet.mjs {arguments[0]} exited {exitCode}: {errors}");
    }
}
