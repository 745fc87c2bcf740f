using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The embedded default: no broker or database configured, so the API runs the whole pipeline in one process
/// (MassTransit in memory, the same consumers, a SQLite file). Same endpoints, same answers.
/// </summary>
[Collection(FlightDelay.Tests.Api.MetricsCollection.Name)]
public sealed class EmbeddedModeTests : IAsyncLifetime
{
    private ApiFactory _factory = null!;
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:SweepInterval", "00:00:00.200");
        _api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_csv_job_runs_to_completion_in_one_process_with_the_sync_answers()
    {
        var flights = JobApi.Flights(1_800);

        var id = await _api.SubmitAsync(JobApi.Csv(flights));
        var job = await _api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(4, job.GetProperty("chunkCount").GetInt32());
        var results = await _api.AllResultsAsync(id, pageSize: 500);
        var expected = await _api.PredictAsync(flights);
        Assert.Equal(Enumerable.Range(1, 1_800), results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal(expected.Select(e => e.Delayed), results.Select(r => r.GetProperty("delayed").GetBoolean()));
        var metrics = await Poll.UntilAsync(() => _api.GetStringAsync("/metrics"),
            m => m.Contains("flightdelay_jobs{", StringComparison.Ordinal) && m.Contains("state=\"succeeded\"} 1", StringComparison.Ordinal),
            JobApi.Deadline, "the jobs gauge to count the job as succeeded");
        Assert.Contains("flightdelay_job_backlog_age_seconds", metrics);
        Assert.Contains("flightdelay_job_chunk_duration_seconds_bucket", metrics);
        metrics = await PrometheusText.WaitForAsync(_api, "flightdelay_jobs_finished_total", ("status", "succeeded"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_jobs_finished_total"));
        Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_job_duration_per_100k_rows_seconds_count"));
        // 1,800 rows count as 100k: the job's whole duration, well under the 60 s objective.
        Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_job_duration_per_100k_rows_seconds_bucket", ("le", "60")));
        var ready = await _api.GetFromJsonAsync<JsonElement>("/health/ready");
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("masstransit-bus").GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_json_job_of_named_and_raw_flights_is_accepted_and_scored()
    {
        var flights = JobApi.Flights(700);
        var body = JsonSerializer.Serialize(new
        {
            flights = flights.Select((f, i) => i % 2 == 0
                ? (object)new { airline = f.Airline, flightType = f.FlightType, month = f.Month }
                : new { features = TestFiles.Encode(f.Airline, f.FlightType, f.Month) }),
        });

        var response = await _api.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await _api.WaitForStatusAsync(id, "succeeded");

        var results = await _api.AllResultsAsync(id);
        var expected = await _api.PredictAsync(flights);
        Assert.Equal(expected.Select(e => e.Delayed), results.Select(r => r.GetProperty("delayed").GetBoolean()));
    }

    [Fact]
    public async Task A_bad_json_job_names_the_flight_and_field()
    {
        var body = "{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 3}, {\"airline\": \"Pan Am\", \"flightType\": \"I\", \"month\": 3}]}";

        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        var row = problem.Root.GetProperty("rows")[0];
        Assert.Equal(2, row.GetProperty("row").GetInt32());
        Assert.Contains("flights[1]", row.GetProperty("where").GetString());
        Assert.Contains("Pan Am", row.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    public async Task Other_content_types_are_415(string contentType)
    {
        await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", new StringContent("x", Encoding.UTF8, contentType)), HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_413_and_an_empty_one_400()
    {
        await using var small = new ApiFactory().With("Jobs:MaxUploadBytes", "2048");
        var client = small.CreateClient();

        await Problem.ReadAsync(await client.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(200))), HttpStatusCode.RequestEntityTooLarge);
        await Problem.ReadAsync(await client.SubmitCsvAsync("airline,flightType,month\n"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_embedded_database_from_an_older_schema_is_refused_with_what_to_do()
    {
        var file = Path.Combine(Path.GetTempPath(), $"flightdelay-old-{Guid.NewGuid():N}.db");
        try
        {
            await using (var current = new ApiFactory().With("ConnectionStrings:Sqlite", $"Data Source={file}"))
                Assert.Equal(HttpStatusCode.OK, (await current.CreateClient().GetAsync("/health/live")).StatusCode);
            // As a file made before the latest migration would be stamped.
            await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}"))
            {
                await connection.OpenAsync();
                await using var stamp = connection.CreateCommand();
                stamp.CommandText = "PRAGMA user_version = 1;";
                await stamp.ExecuteNonQueryAsync();
            }

            await using var upgraded = new ApiFactory().With("ConnectionStrings:Sqlite", $"Data Source={file}");
            var error = Assert.Throws<InvalidOperationException>(() => upgraded.CreateClient());
            Assert.Contains("schema version 1", error.Message);
            Assert.Contains("Delete the file", error.Message);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var f in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(file) + "*")) File.Delete(f);
        }
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task A_finished_jobs_last_full_page_has_no_next_link()
    {
        var id = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_000)));
        await _api.WaitForStatusAsync(id, "succeeded");

        var first = await _api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/results?limit=500");
        var second = await _api.GetFromJsonAsync<JsonElement>(first.GetProperty("next").GetString());

        Assert.Equal(500, second.GetProperty("items").GetArrayLength());
        Assert.Equal(1_000, second.GetProperty("items")[499].GetProperty("row").GetInt32());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
    }
}
