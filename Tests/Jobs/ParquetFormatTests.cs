using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Column = FlightDelay.Tests.Support.ParquetTool.Column;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Apache Parquet as data teams have it: files written by Apache Arrow's implementation (<see cref="ParquetTool"/>)
/// in any compression, over several row groups, with the month as any numeric or text type and extra columns beside
/// the flight's; and results read back by it, with the flights they scored when asked. (Embedded default.)
/// </summary>
public sealed class ParquetFormatTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const string Parquet = "application/vnd.apache.parquet";

    private readonly HttpClient _api = factory.CreateClient();

    [Theory]
    [InlineData("SNAPPY", "int64")]
    [InlineData("ZSTD", "int32")]
    [InlineData("GZIP", "float64")]
    [InlineData("UNCOMPRESSED", "utf8")]
    public async Task A_parquet_file_over_several_row_groups_scores_each_row_like_the_sync_route(string compression, string monthType)
    {
        var flights = JobApi.Flights(1_300, seed: 41);
        var file = await ParquetTool.WriteAsync(new Dictionary<string, Column>
        {
            ["passenger_id"] = new("int64", [.. flights.Select((_, i) => (object?)(9_000 + i))]),
            ["Airline"] = new("utf8", [.. flights.Select(f => (object?)f.Airline)]),
            ["FLIGHTTYPE"] = new("utf8", [.. flights.Select(f => (object?)f.FlightType)]),
            ["month"] = new(monthType, [.. flights.Select(f => monthType == "utf8" ? f.Month.ToString(System.Globalization.CultureInfo.InvariantCulture) : (object?)f.Month)]),
        }, compression, rowsPerGroup: 400);

        var id = await SubmitAsync(file);
        await _api.WaitForStatusAsync(id, "succeeded");

        var expected = await _api.PredictAsync(flights);
        var results = await _api.AllResultsAsync(id);
        Assert.Equal(Enumerable.Range(1, flights.Length), results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal(expected.Select(e => e.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task Thirty_seven_numeric_columns_are_the_raw_features()
    {
        var rows = TestFiles.TestRows.Take(50).Select(r => r.Features).ToList();
        var columns = Enumerable.Range(0, FlightSchema.FeatureCount)
            .ToDictionary(i => $"f{i}", i => new Column("float64", [.. rows.Select(r => (object?)(double)r[i])]));

        var id = await SubmitAsync(await ParquetTool.WriteAsync(columns));
        await _api.WaitForStatusAsync(id, "succeeded");

        var sync = await _api.PostAsJsonAsync("/v1/predictions", new { flights = rows.Select(r => new { features = r }) });
        var expected = (await sync.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("probability").GetSingle());
        Assert.Equal(expected, (await _api.AllResultsAsync(id)).Select(r => r.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task Results_download_as_parquet_that_arrow_reads_with_the_flights_when_asked()
    {
        var flights = JobApi.Flights(900, seed: 42);
        var id = await _api.SubmitAsync(JobApi.Csv(flights));
        await _api.WaitForStatusAsync(id, "succeeded");

        var plain = await _api.GetAsync($"/v1/jobs/{id}/results.parquet");
        var byAccept = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/results");
        byAccept.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(Parquet));
        var negotiated = await _api.SendAsync(byAccept);
        var withInputs = await _api.GetByteArrayAsync($"/v1/jobs/{id}/results.parquet?include=inputs");

        Assert.Equal(Parquet, plain.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"job-{id}-results.parquet", plain.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var bytes = await plain.Content.ReadAsByteArrayAsync();
        Assert.Equal(bytes, await negotiated.Content.ReadAsByteArrayAsync());

        var (columns, rows) = await ParquetTool.ReadAsync(bytes);
        Assert.Equal([("row", "Int32"), ("delayed", "Bool"), ("probability", "Float32"), ("model_version", "Utf8")], columns);
        var pages = await _api.AllResultsAsync(id);
        Assert.Equal(pages.Select(p => p.GetProperty("row").GetInt32()), rows.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal(pages.Select(p => p.GetProperty("delayed").GetBoolean()), rows.Select(r => r.GetProperty("delayed").GetBoolean()));
        Assert.Equal(pages.Select(p => p.GetProperty("probability").GetSingle()), rows.Select(r => r.GetProperty("probability").GetSingle()));
        Assert.Equal(pages.Select(p => p.GetProperty("modelVersion").GetString()), rows.Select(r => r.GetProperty("model_version").GetString()));

        var (inputColumns, inputRows) = await ParquetTool.ReadAsync(withInputs);
        Assert.Equal(["row", "delayed", "probability", "model_version", "airline", "flightType", "month"], inputColumns.Select(c => c.Name));
        Assert.Equal(flights.Select(f => (f.Airline, f.FlightType, f.Month)),
            inputRows.Select(r => (r.GetProperty("airline").GetString()!, r.GetProperty("flightType").GetString()!, r.GetProperty("month").GetInt32())));
    }

    [Fact]
    public async Task Invalid_rows_are_named_by_row_and_row_group_and_can_be_skipped()
    {
        var file = await ParquetTool.WriteAsync(new Dictionary<string, Column>
        {
            ["airline"] = new("utf8", ["Iberia", "Sky Airline", null, "Pan Am", "Iberia"]),
            ["flightType"] = new("utf8", ["I", "N", "I", "I", "I"]),
            ["month"] = new("float64", [3.0, 12.0, 7.0, 4.0, 7.5]),
        }, rowsPerGroup: 2);

        var refused = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(file, Parquet)), HttpStatusCode.BadRequest);
        var errors = refused.Root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["row 3 (row group 2, row 1)", "row 4 (row group 2, row 2)", "row 5 (row group 3, row 1)"], errors.Select(e => e.GetProperty("where").GetString()));
        Assert.Contains("airline is required", errors[0].GetProperty("message").GetString());
        Assert.Contains("Pan Am", errors[1].GetProperty("message").GetString());
        Assert.Contains("'7.5' is not a whole number", errors[2].GetProperty("message").GetString());

        var skipped = await _api.PostAsync("/v1/jobs?onInvalidRow=skip", JobApi.Body(file, Parquet));
        var id = (await skipped.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await _api.WaitForStatusAsync(id, "succeeded");
        Assert.Equal([1, 2], (await _api.AllResultsAsync(id)).Select(r => r.GetProperty("row").GetInt32()));
    }

    [Fact]
    public async Task A_file_that_is_not_parquet_or_has_other_columns_is_a_400_that_says_so()
    {
        var notParquet = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body("airline,flightType,month\nIberia,I,3\n", Parquet)), HttpStatusCode.BadRequest);
        var otherColumns = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(await ParquetTool.WriteAsync(new Dictionary<string, Column>
        {
            ["carrier"] = new("utf8", ["Iberia"]),
            ["month"] = new("int64", [3]),
        }), Parquet)), HttpStatusCode.BadRequest);
        var booleanMonth = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(await ParquetTool.WriteAsync(new Dictionary<string, Column>
        {
            ["airline"] = new("utf8", ["Iberia"]),
            ["flightType"] = new("utf8", ["I"]),
            ["month"] = new("bool", [true]),
        }), Parquet)), HttpStatusCode.BadRequest);

        Assert.Contains("not a readable Parquet file", Message(notParquet));
        Assert.Contains("Unrecognized columns (carrier, month)", Message(otherColumns));
        Assert.Contains("Column 'month' holds Boolean values", Message(booleanMonth));
        Assert.Equal(0, (await _api.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=100")).GetProperty("items").EnumerateArray()
            .Count(j => j.GetProperty("status").GetString() == "receiving"));
    }

    [Fact]
    public async Task An_unknown_include_is_a_400()
    {
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(3)));
        await _api.WaitForStatusAsync(id, "succeeded");

        var problem = await Problem.ReadAsync(await _api.GetAsync($"/v1/jobs/{id}/results.parquet?include=features"), HttpStatusCode.BadRequest);
        Assert.Contains("include may only be 'inputs'", problem.Detail);
    }

    private static string Message(Problem problem) => problem.Root.GetProperty("rows")[0].GetProperty("message").GetString()!;

    private async Task<Guid> SubmitAsync(byte[] file)
    {
        var response = await _api.PostAsync("/v1/jobs", JobApi.Body(file, Parquet));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }
}
