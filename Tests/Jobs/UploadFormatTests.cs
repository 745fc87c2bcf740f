using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The job formats as data tools write them: JSON Lines in (any of its media types, blank lines, CRLF, a bad line named
/// by its number) and out (<c>results.jsonl</c>, or <c>Accept</c> on the pages route), and the format registry's 415
/// and OpenAPI entries. (Embedded default.)
/// </summary>
public sealed class UploadFormatTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _api = factory.CreateClient();

    [Theory]
    [InlineData("application/x-ndjson")]
    [InlineData("application/jsonl")]
    [InlineData("application/x-jsonlines")]
    public async Task A_json_lines_upload_scores_each_line_like_the_sync_route(string mediaType)
    {
        var flights = JobApi.Flights(1_200, seed: 21);
        var lines = flights.Select((f, i) => i % 3 == 0
            ? JsonSerializer.Serialize(new { features = TestFiles.Encode(f.Airline, f.FlightType, f.Month) })
            : JsonSerializer.Serialize(new { airline = f.Airline, flightType = f.FlightType, month = f.Month }));
        var body = string.Join("\r\n", lines.Take(600)) + "\n\n" + string.Join("\n", lines.Skip(600)) + "\n";

        var id = await SubmitAsync(body, mediaType);
        await _api.WaitForStatusAsync(id, "succeeded");

        var expected = await _api.PredictAsync(flights);
        var results = await _api.AllResultsAsync(id);
        Assert.Equal(expected.Select(e => e.Delayed), results.Select(r => r.GetProperty("delayed").GetBoolean()));
        Assert.Equal(expected.Select(e => e.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task A_bad_line_is_a_row_error_naming_its_row_and_line()
    {
        var body = """
            {"airline":"Iberia","flightType":"I","month":3}
            {"airline":"Pan Am","flightType":"I","month":3}
            not json
            {"airline":"Iberia","flightType":"I","month":3} {"extra":1}
            """;

        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body(body, "application/x-ndjson")), HttpStatusCode.BadRequest);

        var rows = problem.Root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["row 2 (line 2)", "row 3 (line 3)", "row 4 (line 4)"], rows.Select(r => r.GetProperty("where").GetString()));
        Assert.Contains("Pan Am", rows[0].GetProperty("message").GetString());
        Assert.Contains("Invalid JSON", rows[1].GetProperty("message").GetString());
        Assert.Contains("after a single JSON value", rows[2].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Results_download_as_json_lines_with_the_pages_names()
    {
        var id = await SubmitAsync(string.Concat(JobApi.Flights(700, seed: 22).Select(f => JsonSerializer.Serialize(new { airline = f.Airline, flightType = f.FlightType, month = f.Month }) + "\n")),
            "application/x-ndjson");
        await _api.WaitForStatusAsync(id, "succeeded");

        var file = await _api.GetAsync($"/v1/jobs/{id}/results.jsonl");
        var byAccept = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}/results");
        byAccept.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));
        var negotiated = await _api.SendAsync(byAccept);

        Assert.Equal("application/x-ndjson", file.Content.Headers.ContentType!.MediaType);
        Assert.Equal($"job-{id}-results.jsonl", file.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var text = await file.Content.ReadAsStringAsync();
        Assert.Equal(text, await negotiated.Content.ReadAsStringAsync());
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var pages = await _api.AllResultsAsync(id);
        Assert.Equal(700, lines.Count);
        Assert.Equal(pages.Select(p => p.GetRawText()), lines.Select(l => l.GetRawText()));
    }

    [Fact]
    public async Task The_formats_are_listed_once_in_the_415_and_the_openapi_document()
    {
        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", JobApi.Body("a,b", "text/plain")), HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("text/csv (CSV), application/json (JSON), application/x-ndjson (JSON Lines), application/vnd.apache.parquet (Parquet)", problem.Detail);

        var document = await _api.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var body = document.GetProperty("paths").GetProperty("/v1/jobs").GetProperty("post").GetProperty("requestBody").GetProperty("content");
        Assert.Equal(["text/csv", "application/json", "application/x-ndjson", "application/vnd.apache.parquet"], body.EnumerateObject().Select(p => p.Name));
    }

    private async Task<Guid> SubmitAsync(string body, string mediaType)
    {
        var response = await _api.PostAsync("/v1/jobs", JobApi.Body(body, mediaType));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }
}
