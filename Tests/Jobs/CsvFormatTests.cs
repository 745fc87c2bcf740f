using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// CSV as spreadsheets and scripts write it: quoted fields holding commas, quotes and line ends, CR-only and mixed line
/// ends, trailing blank lines; text in UTF-16 or UTF-32 (a byte order mark says so) or in a declared charset.
/// Each upload must score exactly as the same flights sent as plain UTF-8. (Embedded default.)
/// </summary>
public sealed class CsvFormatTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static readonly (string Airline, string FlightType, int Month)[] Flights = JobApi.Flights(300, seed: 31);

    private readonly HttpClient _api = factory.CreateClient();

    public static TheoryData<string, string> LineEnds => new() { { "LF", "\n" }, { "CRLF", "\r\n" }, { "CR", "\r" } };

    [Theory]
    [MemberData(nameof(LineEnds))]
    public async Task Any_line_end_and_quoted_fields_read_as_the_same_flights(string name, string end)
    {
        var csv = "\"airline\",\"flightType\",\"month\"" + end
            + string.Concat(Flights.Select((f, i) => i % 2 == 0 ? $"\"{f.Airline}\",{f.FlightType},\"{f.Month}\"{end}" : $"{f.Airline},{f.FlightType},{f.Month}{end}"))
            + end + end;

        await AssertScoredAsExpectedAsync(Encoding.UTF8.GetBytes(csv), "text/csv");
        Assert.NotEmpty(name);
    }

    [Fact]
    public async Task A_quoted_header_may_hold_commas_and_line_ends_and_rows_keep_their_line_numbers()
    {
        // 37 feature columns under a header whose names a spreadsheet wrapped over two lines and gave a comma.
        var header = string.Join(",", Enumerable.Range(0, FlightSchema.FeatureCount).Select(i => i == 0 ? "\"feature 0,\nOPERA \"\"Aerolineas\"\"\"" : $"feature {i}"));
        var rows = Flights.Take(3).Select(f => string.Join(",", TestFiles.Encode(f.Airline, f.FlightType, f.Month).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();
        var csv = header + "\n" + rows[0] + "\n" + rows[1].Replace("0,", "x,", StringComparison.Ordinal) + "\n" + rows[2] + "\n";

        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(Encoding.UTF8.GetBytes(csv), "text/csv")), HttpStatusCode.BadRequest);

        // The header spans lines 1 and 2; the bad row is row 2, on line 4.
        var row = Assert.Single(problem.Root.GetProperty("rows").EnumerateArray());
        Assert.Equal("row 2 (line 4)", row.GetProperty("where").GetString());
    }

    [Theory]
    [InlineData("utf-16le-bom")]
    [InlineData("utf-16be-bom")]
    [InlineData("utf-32le-bom")]
    public async Task Utf16_and_utf32_with_a_byte_order_mark_are_read(string encoding)
    {
        Encoding text = encoding switch
        {
            "utf-16le-bom" => new UnicodeEncoding(false, true),
            "utf-16be-bom" => new UnicodeEncoding(true, true),
            _ => new UTF32Encoding(false, true),
        };
        await AssertScoredAsExpectedAsync([.. text.GetPreamble(), .. text.GetBytes(JobApi.Csv(Flights))], "text/csv");
    }

    [Theory]
    [InlineData("utf-16le")]
    [InlineData("utf-16be")]
    [InlineData("iso-8859-1")]
    [InlineData("windows-1252")]
    public async Task A_declared_charset_is_read(string charset)
    {
        var encoding = System.Text.CodePagesEncodingProvider.Instance.GetEncoding(charset) ?? Encoding.GetEncoding(charset);
        await AssertScoredAsExpectedAsync(encoding.GetBytes(JobApi.Csv(Flights)), $"text/csv; charset={charset}");
    }

    [Fact]
    public async Task An_unknown_charset_is_a_415_and_utf16_without_a_mark_is_told_so()
    {
        var unknown = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(JobApi.Csv(Flights), "text/csv; charset=klingon")),
            HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("charset 'klingon'", unknown.Detail);

        var unmarked = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(Encoding.Unicode.GetBytes(JobApi.Csv(Flights)), "text/csv")),
            HttpStatusCode.BadRequest);
        Assert.Contains("UTF-16", unmarked.Root.GetProperty("rows")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_semicolon_excel_export_with_human_headers_aliases_and_month_names_scores_as_the_flights_it_names()
    {
        // As Excel saves "CSV (semicolon)" where the decimal mark is a comma: a byte order mark, CRLF, the sep= line.
        var csv = "\uFEFFsep=;\r\nFlight ID;Airline;Flight Type;Month\r\n" + string.Concat(Flights.Select((f, i) =>
            $"F{i};{(f.Airline == "Grupo LATAM" && i % 2 == 0 ? "LATAM" : f.Airline.ToUpperInvariant())};{(f.FlightType == "I" ? "International" : "Nacional")};{Months[f.Month - 1]}\r\n"));

        await AssertScoredAsExpectedAsync(Encoding.UTF8.GetBytes(csv), "text/csv");
    }

    private static readonly string[] Months = ["Jan", "febrero", "March", "abr", "May", "Jun", "julio", "Aug", "Sept", "octubre", "Nov", "dic"];

    [Theory]
    [InlineData("xlsx sent as CSV", "text/csv", new byte[] { 0x50, 0x4B, 0x03, 0x04, 0x14, 0x00 })]
    [InlineData("xls sent as CSV", "text/csv", new byte[] { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1 })]
    [InlineData("xlsx under its own type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", new byte[] { 0x50, 0x4B, 0x03, 0x04 })]
    public async Task A_workbook_is_told_how_to_save_it_as_csv(string name, string contentType, byte[] start)
    {
        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body([.. start, .. new byte[2000]], contentType)),
            HttpStatusCode.UnsupportedMediaType);

        Assert.True(problem.Detail.Contains("spreadsheet workbook", StringComparison.Ordinal) && problem.Detail.Contains("Save As", StringComparison.Ordinal), $"{name}: {problem.Detail}");
    }

    private async Task AssertScoredAsExpectedAsync(byte[] body, string contentType)
    {
        var response = await _api.PostAsync("/v1/jobs", JobApi.Body(body, contentType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
        await _api.WaitForStatusAsync(id, "succeeded");
        var expected = await _api.PredictAsync(Flights);
        Assert.Equal(expected.Select(e => e.Probability), (await _api.AllResultsAsync(id)).Select(r => r.GetProperty("probability").GetSingle()));
    }
}
