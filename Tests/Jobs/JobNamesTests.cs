using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Jobs with identity: a name from <c>?name=</c> or the upload's <c>Content-Disposition</c> file name, shown in the job,
/// searched by <c>GET /v1/jobs?q=</c>, and naming the download files. (Embedded default.)
/// </summary>
public sealed class JobNamesTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _api = factory.CreateClient();

    [Fact]
    public async Task A_named_job_is_found_by_its_name_and_names_its_downloads()
    {
        var id = await SubmitAsync("/v1/jobs?name=" + Uri.EscapeDataString("Marzo 2017 vuelos.csv"));
        await _api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal("Marzo 2017 vuelos.csv", (await _api.GetJobAsync(id)).GetProperty("name").GetString());
        Assert.Contains(id, await ListAsync("?q=MARZO%202017"));
        Assert.DoesNotContain(id, await ListAsync("?q=abril"));
        var csv = await _api.GetAsync($"/v1/jobs/{id}/results.csv");
        Assert.Equal("Marzo 2017 vuelos-results.csv", csv.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
    }

    [Theory]
    [InlineData("attachment; filename=\"C:\\\\Users\\\\ana\\\\exports\\\\vuelos.csv\"", "vuelos.csv")]
    [InlineData("attachment; filename=\"junio.csv\"; filename*=UTF-8''vuelos%20a%C3%B1o%20nuevo.csv", "vuelos año nuevo.csv")]
    public async Task An_upload_is_named_by_its_content_disposition_file_name(string disposition, string expected)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JobApi.Body(JobApi.Csv(JobApi.Flights(3)), "text/csv") };
        request.Content.Headers.TryAddWithoutValidation("Content-Disposition", disposition);

        var response = await _api.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(expected, job.GetProperty("name").GetString());
        await _api.WaitForStatusAsync(job.GetProperty("id").GetGuid(), "succeeded");
        var download = await _api.GetAsync($"/v1/jobs/{job.GetProperty("id").GetGuid()}/results.jsonl");
        Assert.Equal(Path.GetFileNameWithoutExtension(expected) + "-results.jsonl", download.Content.Headers.ContentDisposition!.FileNameStar ?? download.Content.Headers.ContentDisposition.FileName!.Trim('"'));
    }

    [Theory]
    [InlineData(201, "", "at most 200 characters")]
    [InlineData(5, "\t", "control characters")]
    public async Task A_name_too_long_or_with_control_characters_is_a_400(int length, string extra, string detail)
    {
        var response = await _api.PostAsync("/v1/jobs?name=" + Uri.EscapeDataString(new string('a', length) + extra + "b"),
            JobApi.Body(JobApi.Csv(JobApi.Flights(3)), "text/csv"));

        Assert.Contains(detail, (await Problem.ReadAsync(response, HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task The_next_page_of_a_search_keeps_searching()
    {
        for (var i = 0; i < 3; i++) await SubmitAsync($"/v1/jobs?name=paging-{i}");

        var first = await _api.GetFromJsonAsync<JsonElement>("/v1/jobs?q=paging-&limit=2");
        var next = first.GetProperty("next").GetString()!;
        var second = await _api.GetFromJsonAsync<JsonElement>(next);

        Assert.Contains("q=paging-", next);
        Assert.Equal(3, first.GetProperty("items").GetArrayLength() + second.GetProperty("items").GetArrayLength());
        Assert.All(second.GetProperty("items").EnumerateArray(), j => Assert.StartsWith("paging-", j.GetProperty("name").GetString()));
    }

    private async Task<Guid> SubmitAsync(string path)
    {
        var response = await _api.PostAsync(path, JobApi.Body(JobApi.Csv(JobApi.Flights(3)), "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<List<Guid>> ListAsync(string query) =>
        [.. (await _api.GetFromJsonAsync<JsonElement>("/v1/jobs" + query)).GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid())];
}
