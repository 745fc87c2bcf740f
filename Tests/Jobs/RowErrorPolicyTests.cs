using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The row-error policy of <c>POST /v1/jobs</c>: by default one invalid row refuses the upload; with
/// <c>?onInvalidRow=skip</c> the valid rows are scored under their own row numbers, the invalid ones are counted in
/// <c>failedRows</c> and listed by <c>GET /v1/jobs/{id}/errors</c>. Each test runs on both databases
/// (<see cref="EmbeddedRowErrorPolicyTests"/>, <see cref="PostgresRowErrorPolicyTests"/>: the migration's table).
/// </summary>
public abstract class RowErrorPolicyTests : IAsyncLifetime
{
    protected const int ChunkSize = 500;

    /// <summary>Jobs:MaxInvalidRows in these tests.</summary>
    protected const int MaxInvalid = 600;

    protected HttpClient Api { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    [Fact]
    public async Task Skipping_scores_the_valid_rows_under_their_own_numbers_and_lists_the_invalid_ones()
    {
        // Invalid rows at a chunk's first and last places, a whole chunk of them (rows 1001-1500), and the last row.
        var flights = JobApi.Flights(1_700, seed: 31);
        var invalid = new SortedSet<int> { 2, 500, 501, 999 };
        invalid.UnionWith(Enumerable.Range(1_001, ChunkSize));
        invalid.Add(1_700);
        var csv = new StringBuilder("airline,flightType,month\n");
        for (var row = 1; row <= flights.Length; row++)
        {
            var (airline, type, month) = flights[row - 1];
            csv.Append(invalid.Contains(row) ? (row % 2 == 0 ? $"Pan Am,{type},{month}\n" : $"{airline},{type},13\n") : $"{airline},{type},{month}\n");
        }

        var response = await Api.PostAsync("/v1/jobs?onInvalidRow=skip", JobApi.Body(csv.ToString(), "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var job = await Api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal(1_700, job.GetProperty("totalRows").GetInt32());
        Assert.Equal(invalid.Count, job.GetProperty("failedRows").GetInt32());
        Assert.Equal(1_700 - invalid.Count, job.GetProperty("processedRows").GetInt32());
        Assert.Equal(1.0, job.GetProperty("progress").GetDouble());
        Assert.Equal($"/v1/jobs/{id}/errors", job.GetProperty("links").GetProperty("errors").GetString());

        // Every valid row has its own number and the sync route's answer; no invalid row has a result.
        var valid = Enumerable.Range(1, flights.Length).Where(r => !invalid.Contains(r)).ToList();
        var expected = await Api.PredictAsync([.. valid.Select(r => flights[r - 1])]);
        var results = await Api.AllResultsAsync(id, pageSize: 300);
        Assert.Equal(valid, results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal(expected.Select(e => e.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
        var download = (await Api.GetStringAsync($"/v1/jobs/{id}/results.csv")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(valid, download.Skip(1).Select(l => int.Parse(l.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture)));
        var summary = await Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/summary");
        Assert.Equal(valid.Count, summary.GetProperty("histogram").EnumerateArray().Sum(b => b.GetProperty("count").GetInt32()));

        // The errors, page by page, name each invalid row, its line and what is wrong.
        var errors = new List<JsonElement>();
        for (var next = $"/v1/jobs/{id}/errors?limit=200"; next is not null;)
        {
            var page = await Api.GetFromJsonAsync<JsonElement>(next);
            errors.AddRange(page.GetProperty("items").EnumerateArray());
            next = page.GetProperty("next").GetString();
        }
        Assert.Equal(invalid, errors.Select(e => e.GetProperty("row").GetInt32()));
        Assert.Equal("row 2 (line 3)", errors[0].GetProperty("where").GetString());
        Assert.Contains("Pan Am", errors[0].GetProperty("message").GetString());
        Assert.Contains("month", errors.Single(e => e.GetProperty("row").GetInt32() == 501).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Skipping_works_for_json_lines_including_a_line_that_is_not_json()
    {
        var body = """
            {"airline":"Iberia","flightType":"I","month":3}
            not json
            {"airline":"Sky Airline","flightType":"N","month":12}
            """;

        var response = await Api.PostAsync("/v1/jobs?onInvalidRow=SKIP", JobApi.Body(body, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await Api.WaitForStatusAsync(id, "succeeded");

        Assert.Equal([1, 3], (await Api.AllResultsAsync(id)).Select(r => r.GetProperty("row").GetInt32()));
        var errors = await Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/errors");
        var only = Assert.Single(errors.GetProperty("items").EnumerateArray());
        Assert.Equal(2, only.GetProperty("row").GetInt32());
        Assert.Contains("Invalid JSON", only.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, errors.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task By_default_one_invalid_row_refuses_the_upload_and_says_how_to_skip()
    {
        var problem = await Problem.ReadAsync(await Api.PostAsync("/v1/jobs", JobApi.Body("airline,flightType,month\nIberia,I,3\nIberia,I,13\n", "text/csv")),
            HttpStatusCode.BadRequest);

        Assert.Contains("onInvalidRow=skip", problem.Detail);
        Assert.Equal("row 2 (line 3)", Assert.Single(problem.Root.GetProperty("rows").EnumerateArray()).GetProperty("where").GetString());
        Assert.Equal(0, (await Api.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("?onInvalidRow=ignore", "onInvalidRow must be")]
    [InlineData("?onInvalidRow=skip", "No row of the upload is valid")]
    public async Task A_wrong_policy_or_an_upload_with_no_valid_row_is_a_400_and_stores_nothing(string query, string detail)
    {
        var problem = await Problem.ReadAsync(await Api.PostAsync("/v1/jobs" + query, JobApi.Body("airline,flightType,month\nPan Am,I,3\nIberia,X,3\n", "text/csv")),
            HttpStatusCode.BadRequest);

        Assert.Contains(detail, problem.Detail);
        Assert.Equal(0, (await Api.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task More_invalid_rows_than_the_limit_refuse_the_whole_upload()
    {
        var csv = "airline,flightType,month\n" + string.Concat(Enumerable.Repeat("Iberia,I,3\nIberia,I,0\n", MaxInvalid + 1));

        var problem = await Problem.ReadAsync(await Api.PostAsync("/v1/jobs?onInvalidRow=skip", JobApi.Body(csv, "text/csv")), HttpStatusCode.BadRequest);

        Assert.Contains($"More than {MaxInvalid} rows are invalid", problem.Root.GetProperty("rows").EnumerateArray().Last().GetProperty("message").GetString());
        Assert.Equal(0, (await Api.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_policy_is_part_of_an_idempotent_request()
    {
        var csv = "airline,flightType,month\nIberia,I,3\nIberia,I,13\nIberia,N,4\n";
        HttpRequestMessage Submission(string query)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs" + query) { Content = JobApi.Body(csv, "text/csv") };
            request.Headers.Add("Idempotency-Key", "policy-1");
            return request;
        }

        var first = await Api.SendAsync(Submission("?onInvalidRow=skip"));
        var again = await Api.SendAsync(Submission("?onInvalidRow=skip"));
        var otherPolicy = await Api.SendAsync(Submission(""));

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        await Problem.ReadAsync(otherPolicy, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Overlapping_skipping_uploads_each_keep_their_own_invalid_rows()
    {
        // Six clients at once, each with invalid rows in other places and across chunk boundaries.
        var submissions = Enumerable.Range(0, 6).Select(async client =>
        {
            var invalid = Enumerable.Range(0, 5).Select(k => 1 + client * 37 + k * 211).ToHashSet();
            var csv = new StringBuilder("airline,flightType,month\n");
            var flights = JobApi.Flights(1_200, seed: 50 + client);
            for (var row = 1; row <= flights.Length; row++)
                csv.Append(invalid.Contains(row) ? $"Pan Am {client},I,3\n" : $"{flights[row - 1].Airline},{flights[row - 1].FlightType},{flights[row - 1].Month}\n");
            var response = await Api.PostAsync($"/v1/jobs?onInvalidRow=skip&name=client-{client}", JobApi.Body(csv.ToString(), "text/csv"));
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (Client: client, Invalid: invalid, Id: (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        }).ToList();

        foreach (var (client, invalid, id) in await Task.WhenAll(submissions))
        {
            var job = await Api.WaitForStatusAsync(id, "succeeded");
            Assert.Equal(invalid.Count, job.GetProperty("failedRows").GetInt32());
            var errors = (await Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/errors")).GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(invalid.Order(), errors.Select(e => e.GetProperty("row").GetInt32()));
            Assert.All(errors, e => Assert.Contains($"Pan Am {client}", e.GetProperty("message").GetString()));
            Assert.Equal(1_200 - invalid.Count, (await Api.AllResultsAsync(id)).Count);
        }
    }

    [Fact]
    public async Task Errors_of_an_unknown_job_are_a_404_and_bad_paging_a_400()
    {
        await Problem.ReadAsync(await Api.GetAsync($"/v1/jobs/{Guid.NewGuid()}/errors"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await Api.GetAsync($"/v1/jobs/{Guid.NewGuid()}/errors?limit=0"), HttpStatusCode.BadRequest);
    }
}

public sealed class EmbeddedRowErrorPolicyTests : RowErrorPolicyTests
{
    private ApiFactory _factory = null!;

    public override Task InitializeAsync()
    {
        _factory = new ApiFactory()
            .With("Jobs:ChunkSize", ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("Jobs:MaxInvalidRows", MaxInvalid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _factory.DisposeAsync();
    }
}

public sealed class PostgresRowErrorPolicyTests : RowErrorPolicyTests
{
    private Pipeline _pipeline = null!;

    public override async Task InitializeAsync()
    {
        _pipeline = await Pipeline.StartAsync(workers: 1, new Dictionary<string, string?>
        {
            ["Jobs:ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Jobs:MaxInvalidRows"] = MaxInvalid.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Api = _pipeline.Api;
    }

    public override async Task DisposeAsync() => await _pipeline.DisposeAsync();
}
