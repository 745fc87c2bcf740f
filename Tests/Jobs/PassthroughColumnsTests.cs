using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;
using Microsoft.VisualBasic.FileIO;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// An upload's columns other than the flight's (an id to join on, notes) come back in every results format, row for
/// row, invalid rows skipped in between and across chunks; in CSV, a value a spreadsheet would run as a formula is
/// neutralised (OWASP), numbers untouched. Read back with off-the-shelf readers: .NET's TextFieldParser for CSV,
/// Apache Arrow (npm parquet-wasm) for Parquet. On both databases (<see cref="EmbeddedPassthroughColumnsTests"/>,
/// <see cref="PostgresPassthroughColumnsTests"/>).
/// </summary>
public abstract class PassthroughColumnsTests : IAsyncLifetime
{
    protected const int ChunkSize = 500;

    private static readonly string[] Notes = ["=1+1", "-5", "@SUM(A1)", "a;b \"quoted\"", "Aerolíneas, 2º", "+CMD|' /C calc'!A0", "", "\tx", "-1.5e3"];

    private static readonly int[] Invalid = [2, 700, 1_200];

    protected HttpClient Api { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task Other_columns_come_back_in_every_format_beside_their_rows()
    {
        var flights = JobApi.Flights(1_200, seed: 5);
        var csv = new StringBuilder("Flight ID;Airline;Flight Type;Month;Note;row\r\n");
        for (var row = 1; row <= flights.Length; row++)
        {
            var (airline, type, month) = flights[row - 1];
            csv.Append($"F{row};{(Invalid.Contains(row) ? "Pan Am" : airline)};{type};{month};\"{Note(row).Replace("\"", "\"\"", StringComparison.Ordinal)}\";{row * 10}\r\n");
        }
        var submitted = await Api.PostAsync("/v1/jobs?onInvalidRow=skip", JobApi.Body(csv.ToString(), "text/csv"));
        Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync());
        var id = JsonDocument.Parse(await submitted.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetGuid();
        await Api.WaitForStatusAsync(id, "succeeded");
        var scored = Enumerable.Range(1, flights.Length).Where(r => !Invalid.Contains(r)).ToList();

        // CSV, as a spreadsheet would read it.
        using var parser = new TextFieldParser(await Api.GetStreamAsync($"/v1/jobs/{id}/results.csv?include=inputs")) { Delimiters = [","], HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        Assert.Equal(["row", "delayed", "probability", "model_version", "airline", "flightType", "month", "Flight ID", "Note", "input_row"], parser.ReadFields()!);
        foreach (var row in scored)
        {
            var fields = parser.ReadFields()!;
            Assert.Equal(row.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[0]);
            Assert.Equal(flights[row - 1], (fields[4], fields[5], int.Parse(fields[6], System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Equal($"F{row}", fields[7]);
            Assert.Equal(Neutralised(Note(row)), fields[8]);
            Assert.Equal($"{row * 10}", fields[9]);
        }
        Assert.Null(parser.ReadFields());

        // JSON Lines: the values as they were, nothing neutralised.
        var lines = (await Api.GetStringAsync($"/v1/jobs/{id}/results.jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(scored, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("row").GetInt32()));
        foreach (var (line, row) in lines.Zip(scored))
        {
            var item = JsonDocument.Parse(line).RootElement;
            Assert.Equal($"F{row}", item.GetProperty("Flight ID").GetString());
            Assert.Equal(Note(row), item.GetProperty("Note").GetString());
        }

        // Parquet, read by Apache Arrow.
        var (columns, rows) = await ParquetTool.ReadAsync(await Api.GetByteArrayAsync($"/v1/jobs/{id}/results.parquet"));
        Assert.Equal(["row", "delayed", "probability", "model_version", "Flight ID", "Note", "input_row"], columns.Select(c => c.Name));
        Assert.Equal(scored.Select(r => Note(r)), rows.Select(r => r.GetProperty("Note").GetString()));
    }

    [Fact]
    public async Task Without_other_columns_the_results_are_as_before()
    {
        var id = await Api.SubmitAsync(JobApi.Csv(JobApi.Flights(3)));
        await Api.WaitForStatusAsync(id, "succeeded");

        Assert.StartsWith("row,delayed,probability,model_version\n1,", await Api.GetStringAsync($"/v1/jobs/{id}/results.csv"));
    }

    private static string Note(int row) => Notes[row % Notes.Length];

    /// <summary>OWASP: a leading =, +, -, @, tab or CR gets a ' unless the value is a number.</summary>
    private static string Neutralised(string value) =>
        value.Length > 0 && "=+-@\t\r".Contains(value[0], StringComparison.Ordinal)
        && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)
            ? "'" + value
            : value;
}

public sealed class EmbeddedPassthroughColumnsTests : PassthroughColumnsTests
{
    private ApiFactory _factory = null!;

    public override Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _factory.DisposeAsync();
    }
}

public sealed class PostgresPassthroughColumnsTests : PassthroughColumnsTests
{
    private Pipeline _pipeline = null!;

    public override async Task InitializeAsync()
    {
        _pipeline = await Pipeline.StartAsync(workers: 1, new Dictionary<string, string?> { ["Jobs:ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Api = _pipeline.Api;
    }

    public override async Task DisposeAsync() => await _pipeline.DisposeAsync();

}
