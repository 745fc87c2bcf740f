using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;
using Microsoft.Data.Sqlite;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The upload and the scoring overlap: each chunk is sent to the workers as soon as it is staged, so a slow upload's
/// first chunks are scored while the rest is still coming (a gated body holds the upload open while the test looks). A
/// submission refused by a later row leaves nothing behind, results of the chunks already scored included. On both
/// hosting modes (<see cref="EmbeddedOverlappedIntakeTests"/>, <see cref="PostgresOverlappedIntakeTests"/>).
/// </summary>
public abstract class OverlappedIntakeTests : IAsyncLifetime
{
    protected const int ChunkSize = 500;

    /// <summary>Streams request bodies: the test client's redirect handler would buffer a body whole before sending it.</summary>
    protected static readonly Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions Streaming = new() { AllowAutoRedirect = false };

    protected HttpClient Api { get; set; } = null!;

    public abstract Task InitializeAsync();

    public abstract Task DisposeAsync();

    /// <summary>One number from the jobs database, by SQL both databases speak.</summary>
    protected abstract Task<long> ScalarAsync(string sql);

    [Fact]
    public async Task Chunks_are_scored_while_the_upload_still_streams_and_the_job_ends_with_every_row()
    {
        var flights = JobApi.Flights(ChunkSize * 3 + 40, seed: 21);
        var csv = JobApi.Csv(flights);
        var split = NthLineEnd(csv, ChunkSize * 2 + 1 + 10); // the header, two whole chunks and a few rows
        var body = new GatedContent(csv[..split], csv[split..]);
        var submit = Api.PostAsync("/v1/jobs?name=overlap-ok", body);

        // The first two chunks are done while the upload is held open, and the job is still invisible.
        await Poll.UntilAsync(() => ScalarAsync("SELECT count(*) FROM job_chunks c JOIN jobs j ON j.id = c.job_id WHERE j.name = 'overlap-ok' AND j.status = 'Receiving' AND c.status = 'Done'"),
            done => done == 2, JobApi.Deadline, "the first chunks to be scored during the upload");
        Assert.Equal(0, (await Api.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
        Assert.False(submit.IsCompleted);

        body.Release();
        using var response = await submit;
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var job = await Api.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(flights.Length, job.GetProperty("processedRows").GetInt32());
        Assert.Equal(4, job.GetProperty("chunksDone").GetInt32());
        var results = await Api.AllResultsAsync(id);
        Assert.Equal(Enumerable.Range(1, flights.Length), results.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Equal((await Api.PredictAsync(flights)).Select(p => p.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
    }

    [Fact]
    public async Task An_upload_refused_by_a_late_row_leaves_nothing_though_its_first_chunks_were_scored()
    {
        var csv = JobApi.Csv(JobApi.Flights(ChunkSize * 2 + 10, seed: 22));
        var split = NthLineEnd(csv, ChunkSize * 2 + 1);
        var body = new GatedContent(csv[..split], csv[split..] + "Pan Am,I,7\n");
        var submit = Api.PostAsync("/v1/jobs?name=overlap-refused", body);
        await Poll.UntilAsync(() => ScalarAsync("SELECT count(*) FROM job_chunk_results r JOIN jobs j ON j.id = r.job_id WHERE j.name = 'overlap-refused'"),
            stored => stored == 2, JobApi.Deadline, "the first chunks' results to be stored during the upload");

        body.Release();
        using var response = await submit;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Pan Am", await response.Content.ReadAsStringAsync());
        foreach (var table in new[] { "job_chunk_results", "job_inputs", "job_chunks", "job_row_errors" })
            Assert.Equal(0, await ScalarAsync($"SELECT count(*) FROM {table}"));
        Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM jobs"));
    }

    /// <summary>The index just past the <paramref name="lines"/>-th line's end.</summary>
    private static int NthLineEnd(string text, int lines)
    {
        var at = -1;
        for (var i = 0; i < lines; i++) at = text.IndexOf('\n', at + 1);
        return at + 1;
    }
}

public sealed class EmbeddedOverlappedIntakeTests : OverlappedIntakeTests
{
    private ApiFactory _factory = null!;

    public override Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Api = _factory.CreateClient(Streaming);
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _factory.DisposeAsync();
    }

    protected override async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new SqliteConnection(_factory.SqliteConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class PostgresOverlappedIntakeTests : OverlappedIntakeTests
{
    private Pipeline _pipeline = null!;

    public override async Task InitializeAsync()
    {
        _pipeline = await Pipeline.StartAsync(workers: 2, new Dictionary<string, string?> { ["Jobs:ChunkSize"] = ChunkSize.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Api = _pipeline.Factory.CreateClient(Streaming);
    }

    public override async Task DisposeAsync()
    {
        Api.Dispose();
        await _pipeline.DisposeAsync();
    }

    protected override Task<long> ScalarAsync(string sql) => _pipeline.ScalarAsync(sql);
}
