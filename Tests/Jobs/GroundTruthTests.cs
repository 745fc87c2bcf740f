using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Ground truth in the embedded default: outcomes reported for a job's rows, counted once however often they are
/// reported, and the live quality they give the version that scored them.
/// </summary>
public sealed class GroundTruthTests : IAsyncLifetime
{
    private readonly ApiFactory _factory = new ApiFactory().With("Jobs:ChunkSize", "5000");
    private readonly ModelCard _card = FlightModel.Load(TestFiles.ShippedModel).Card;
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task The_test_set_scored_as_a_job_with_its_outcomes_reproduces_the_cards_test_figures()
    {
        var rows = TestFiles.TestRows;
        var job = await _api.SubmitAsync(string.Join('\n', rows.Select(r => string.Join(',', r.Features.Select(f => f.ToString(CultureInfo.InvariantCulture))))));
        await _api.WaitForStatusAsync(job, "succeeded");

        var report = await ReportAsync(job, "text/csv", "row,delayed\n" + string.Join('\n', rows.Select((r, i) => $"{i + 1},{(r.Delayed ? 1 : 0)}")));
        Assert.Equal(rows.Count, report.GetProperty("changed").GetInt32());
        Assert.Equal(rows.Count, report.GetProperty("known").GetInt64());

        var quality = await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/quality");
        var live = quality.GetProperty("live");
        var test = _card.Metrics;
        Assert.Equal(rows.Count, live.GetProperty("flights").GetInt64());
        Assert.Equal(test.ConfusionMatrix, live.GetProperty("confusionMatrix").Deserialize<long[][]>());
        Assert.Equal(test.Accuracy, Math.Round(live.GetProperty("accuracy").GetDouble(), 4));
        Assert.Equal(test.Precision, Math.Round(live.GetProperty("precision").GetDouble(), 4));
        Assert.Equal(test.Recall, Math.Round(live.GetProperty("recall").GetDouble(), 4));
        Assert.Equal(test.F1, Math.Round(live.GetProperty("f1").GetDouble(), 4));
        Assert.Equal(test.RocAuc, Math.Round(live.GetProperty("rocAuc").GetDouble(), 4));
        Assert.Equal(test.RocAuc, quality.GetProperty("test").GetProperty("rocAuc").GetDouble());
        var window = Assert.Single(quality.GetProperty("windows").EnumerateArray());
        Assert.Equal(rows.Count, window.GetProperty("live").GetProperty("flights").GetInt64());
    }

    [Fact]
    public async Task An_upload_with_a_delayed_column_is_an_evaluation_job_whose_outcomes_reproduce_the_cards_figures()
    {
        var rows = TestFiles.TestRows;
        var csv = new StringBuilder("airline,flightType,month,delayed\n");
        foreach (var (delayed, features) in rows)
        {
            Assert.True(FlightSchema.TryDecode(features, out var airline, out var flightType, out var month));
            csv.Append(CultureInfo.InvariantCulture, $"{airline},{flightType},{month},{(delayed ? "true" : "false")}\n");
        }
        var job = await _api.SubmitAsync(csv.ToString());
        await _api.WaitForStatusAsync(job, "succeeded");

        var live = (await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/quality")).GetProperty("live");
        Assert.Equal(rows.Count, live.GetProperty("flights").GetInt64());
        Assert.Equal(_card.Metrics.ConfusionMatrix, live.GetProperty("confusionMatrix").Deserialize<long[][]>());
        Assert.Equal(_card.Metrics.RocAuc, Math.Round(live.GetProperty("rocAuc").GetDouble(), 4));
        // The column comes back with the results too, under its passed-through name.
        var download = (await _api.GetStringAsync($"/v1/jobs/{job}/results.csv")).Split('\n');
        Assert.EndsWith(",input_delayed", download[0].TrimEnd('\r'));
        Assert.EndsWith(rows[0].Delayed ? ",true" : ",false", download[1].TrimEnd('\r'));

        // A label that is neither refuses the upload, naming the row.
        var bad = await _api.SubmitCsvAsync("airline,flightType,month,delayed\nGrupo LATAM,I,7,1\nSky Airline,N,3,maybe\n");
        var problem = await Problem.ReadAsync(bad, HttpStatusCode.BadRequest);
        Assert.Contains("maybe", problem.Root.GetRawText());
    }

    [Fact]
    public async Task Outcomes_reported_twice_or_in_another_format_count_once_and_a_correction_replaces_the_first()
    {
        var flights = JobApi.Flights(12_000, seed: 5);
        var job = await _api.SubmitAsync(JobApi.Csv(flights));
        await _api.WaitForStatusAsync(job, "succeeded");
        var results = await _api.AllResultsAsync(job);
        // Rows in three chunks: 1-10 in the first, 4999-5002 across the first two, 11999-12000 in the last.
        int[] reported = [.. Enumerable.Range(1, 10), 4_999, 5_000, 5_001, 5_002, 11_999, 12_000];
        var truth = reported.ToDictionary(r => r, r => r % 3 == 0);

        var csv = "delayed,row\n" + string.Join('\n', reported.Select(r => $"{(truth[r] ? "true" : "false")},{r}"));
        Assert.Equal(reported.Length, (await ReportAsync(job, "text/csv; charset=utf-8", csv)).GetProperty("changed").GetInt32());
        var again = await ReportAsync(job, "application/json", JsonSerializer.Serialize(reported.Select(r => new { row = r, delayed = truth[r] })));
        Assert.Equal((reported.Length, 0, (long)reported.Length), (again.GetProperty("received").GetInt32(), again.GetProperty("changed").GetInt32(), again.GetProperty("known").GetInt64()));

        // One correction, as JSON Lines: the row's outcome is replaced, not added.
        truth[5_001] = !truth[5_001];
        var corrected = await ReportAsync(job, "application/jsonl", $"{{\"row\": 5001, \"delayed\": {(truth[5_001] ? 1 : 0)}}}\n");
        Assert.Equal((1, (long)reported.Length), (corrected.GetProperty("changed").GetInt32(), corrected.GetProperty("known").GetInt64()));

        // The live figures are those of an independent count over the same rows.
        var live = (await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/quality?bucket=hour")).GetProperty("live");
        var expected = BinaryQuality.Evaluate([.. reported.Select(r => truth[r])],
            [.. reported.Select(r => results[r - 1].GetProperty("delayed").GetBoolean())],
            [.. reported.Select(r => results[r - 1].GetProperty("probability").GetSingle())]);
        Assert.Equal(reported.Length, live.GetProperty("flights").GetInt64());
        Assert.Equal(reported.Count(r => truth[r]), live.GetProperty("delayed").GetInt64());
        Assert.Equal(expected.ConfusionMatrix, live.GetProperty("confusionMatrix").Deserialize<long[][]>());
        Assert.Equal(expected.RocAuc!.Value, live.GetProperty("rocAuc").GetDouble(), 12);
    }

    [Fact]
    public async Task A_bad_report_is_refused_whole_with_each_lines_reason()
    {
        var job = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(20)));
        await _api.WaitForStatusAsync(job, "succeeded");

        var problem = await Problem.ReadAsync(await PostAsync(job, "text/csv", "row,delayed\n1,1\n0,1\n21,0\n3,maybe\n4\n"), HttpStatusCode.BadRequest);
        Assert.Equal(
            ["line 3: row must be a whole number from 1 to 20 (the job's rows), not '0'.",
             "line 4: row must be a whole number from 1 to 20 (the job's rows), not '21'.",
             "line 5: delayed must be true, false, 1 or 0, not 'maybe'.",
             "line 6: 1 fields where the header has 2."],
            problem.Root.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        await Problem.ReadAsync(await PostAsync(job, "text/csv", "flight,late\n1,1\n"), HttpStatusCode.BadRequest);
        await Problem.ReadAsync(await PostAsync(job, "application/json", "{\"row\": 1}"), HttpStatusCode.BadRequest);
        await Problem.ReadAsync(await PostAsync(job, "application/xml", "<row/>"), HttpStatusCode.UnsupportedMediaType);
        await Problem.ReadAsync(await PostAsync(Guid.NewGuid(), "text/csv", "row,delayed\n1,1\n"), HttpStatusCode.NotFound);

        // Nothing of the refused report was stored.
        var live = (await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/quality")).GetProperty("live");
        Assert.Equal(0, live.GetProperty("flights").GetInt64());
        Assert.Equal(JsonValueKind.Null, live.GetProperty("rocAuc").ValueKind);
    }

    private Task<HttpResponseMessage> PostAsync(Guid job, string contentType, string body) =>
        _api.PostAsync($"/v1/jobs/{job}/outcomes", new StringContent(body, Encoding.UTF8, contentType.Split(';')[0]) { Headers = { ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType) } });

    private async Task<JsonElement> ReportAsync(Guid job, string contentType, string body)
    {
        var response = await PostAsync(job, contentType, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }
}
