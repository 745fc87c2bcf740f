using System.Net;
using System.Text.Json;
using FlightDelay.Client;
using FlightDelay.Contracts;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Client;

/// <summary>
/// FlightDelay.Client against the real API in the embedded default (in-process), registered as an application would
/// (<c>AddFlightDelayClient</c>, with its retry policy): submit a file, wait with progress, download the results.
/// </summary>
public sealed class ClientRoundTripTests : IAsyncLifetime
{
    private ApiFactory _factory = null!;
    private ServiceProvider _services = null!;
    private readonly List<Recorder.Seen> _seen = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("flightdelay-client-").FullName;

    public FlightDelayClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        // One chunk out at a time (Jobs:DispatchWindow), so the cancel test can hold the window and keep its job queued.
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:DispatchWindow", "1").With("Jobs:SweepInterval", "00:00:00.200");
        _ = _factory.Server;
        var services = new ServiceCollection();
        services.AddFlightDelayClient(o =>
            {
                o.BaseAddress = _factory.Server.BaseAddress;
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            })
            .ConfigurePrimaryHttpMessageHandler(() => _factory.Server.CreateHandler())
            .AddHttpMessageHandler(() => new Recorder(_seen));
        _services = services.BuildServiceProvider();
        Client = _services.GetRequiredService<FlightDelayClient>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _factory.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    public static TheoryData<string, ResultFormat> Formats => new()
    {
        { "csv", ResultFormat.Csv },
        { "jsonl", ResultFormat.JsonLines },
        { "parquet", ResultFormat.Parquet },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task A_file_is_submitted_waited_for_and_downloaded_with_the_answers_of_the_sync_route(string extension, ResultFormat format)
    {
        var flights = JobApi.Flights(1_700, seed: extension.Length);
        var upload = Path.Combine(_folder, $"march.{extension}");
        await WriteUploadAsync(upload, extension, flights);

        var submitted = await Client.SubmitFileAsync(upload);
        var reports = new List<JobProgress>();
        var job = await Client.WaitAsync(submitted.Job.Id, new Inline<JobProgress>(reports.Add));
        var path = Path.Combine(_folder, $"results.{extension}");
        var bytes = await Client.DownloadResultsAsync(job.Id, format, path);

        Assert.Equal(JobStatuses.Succeeded, job.Status);
        Assert.Equal("march." + extension, job.Name);
        Assert.Equal(1_700, job.ProcessedRows);
        Assert.False(submitted.Replayed);
        Assert.StartsWith("fdc-", submitted.IdempotencyKey, StringComparison.Ordinal);
        // Each upload streamed with its content type, compressed unless Parquet, with the generated key.
        var post = Assert.Single(_seen, r => r.Method == HttpMethod.Post && r.Uri.AbsolutePath == "/v1/jobs");
        Assert.Equal(extension == "parquet" ? "application/vnd.apache.parquet" : extension == "csv" ? "text/csv" : "application/x-ndjson", post.Header("Content-Type"));
        Assert.Equal(extension == "parquet" ? null : "gzip", post.Header("Content-Encoding"));
        Assert.Equal(submitted.IdempotencyKey, post.Header("Idempotency-Key"));
        Assert.Equal("name=march." + extension, post.Uri.Query.TrimStart('?'));
        // Progress: rows never go backwards, and the last report is the finished job.
        Assert.NotEmpty(reports);
        Assert.Equal(reports.Select(r => r.RowsDone).Order(), reports.Select(r => r.RowsDone));
        Assert.Equal(1.0, reports[^1].Fraction);
        Assert.True(reports[^1].Job.IsFinal);
        Assert.All(_seen.Where(r => r.Uri.AbsolutePath == $"/v1/jobs/{job.Id}"), r => Assert.Equal("wait=20", r.Header("Prefer")));

        var expected = (await Client.PredictAsync(flights.Select(f => Flight.Named(f.Airline, f.FlightType, f.Month)))).Predictions;
        var downloaded = await ReadResultsAsync(path, format);
        Assert.Equal(new FileInfo(path).Length, bytes);
        Assert.False(File.Exists(path + ".part"));
        Assert.Equal(Enumerable.Range(1, 1_700), downloaded.Select(r => r.Row));
        Assert.Equal(expected.Select(p => p.Delayed), downloaded.Select(r => r.Delayed));
        Assert.Equal(expected.Select(p => p.Probability), downloaded.Select(r => r.Probability));

        var streamed = new List<JobResultView>();
        await foreach (var result in Client.GetResultsAsync(job.Id, pageSize: 400)) streamed.Add(result);
        Assert.Equal(downloaded, streamed.Select(r => (r.Row, r.Delayed, r.Probability)));
    }

    [Fact]
    public async Task Results_stream_while_the_job_runs_and_end_with_its_last_row()
    {
        var csv = Path.Combine(_folder, "running.csv");
        await File.WriteAllTextAsync(csv, JobApi.Csv(JobApi.Flights(6_000)));

        var submitted = await Client.SubmitFileAsync(csv, new SubmitOptions { Name = "streamed while running" });
        var rows = new List<int>();
        await foreach (var result in Client.GetResultsAsync(submitted.Job.Id, pageSize: 700)) rows.Add(result.Row);

        Assert.Equal(Enumerable.Range(1, 6_000), rows);
        Assert.Equal("streamed while running", (await Client.GetJobAsync(submitted.Job.Id)).Name);
    }

    [Fact]
    public async Task Problems_surface_with_status_title_detail_errors_and_rows()
    {
        var predict = await Assert.ThrowsAsync<FlightDelayApiException>(() => Client.PredictAsync([Flight.Named("Pan Am", "I", 7), Flight.Named("Iberia", "X", 3)]));
        var csv = Path.Combine(_folder, "dirty.csv");
        await File.WriteAllTextAsync(csv, "airline,flightType,month\nIberia,I,3\nPan Am,I,3\n");
        var upload = await Assert.ThrowsAsync<FlightDelayApiException>(() => Client.SubmitFileAsync(csv));
        var missing = await Assert.ThrowsAsync<FlightDelayApiException>(() => Client.GetJobAsync(Guid.CreateVersion7()));
        var skipped = await Client.SubmitFileAsync(csv, new SubmitOptions { SkipInvalidRows = true });
        await Client.WaitAsync(skipped.Job.Id);
        var errors = new List<JobRowErrorView>();
        await foreach (var error in Client.GetErrorsAsync(skipped.Job.Id)) errors.Add(error);

        Assert.Equal(HttpStatusCode.BadRequest, predict.Status);
        Assert.Contains("Pan Am", Assert.Single(predict.Errors["flights[0].airline"]), StringComparison.Ordinal);
        Assert.True(predict.Errors.ContainsKey("flights[1].flightType"));
        Assert.Equal(400, upload.StatusCode);
        Assert.NotNull(upload.Detail);
        var row = Assert.Single(upload.Rows);
        Assert.Equal(2, row.Row);
        Assert.Contains("Pan Am", row.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Contains("There is no job", missing.Detail, StringComparison.Ordinal);
        Assert.Equal(2, Assert.Single(errors).Row);
    }

    [Fact]
    public async Task Every_other_route_answers_through_its_typed_method()
    {
        var csv = Path.Combine(_folder, "april.csv");
        await File.WriteAllTextAsync(csv, JobApi.Csv(JobApi.Flights(900)));

        var model = await Client.GetModelAsync();
        var first = await Client.SubmitFileAsync(csv, new SubmitOptions { Priority = JobPriorities.High });
        var done = await Client.WaitAsync(first.Job.Id);
        Assert.Equal(JobPriorities.High, done.Priority);
        var summary = await Client.GetSummaryAsync(done.Id);
        var page = await Client.GetResultsPageAsync(done.Id, after: 100, limit: 10);
        var listed = await Client.ListJobsAsync(new JobListQuery { Status = JobStatuses.Succeeded, Search = "april", Limit = 5 });
        var conflict = await Assert.ThrowsAsync<FlightDelayApiException>(() => Client.CancelAsync(done.Id));
        var deleted = await Client.DeleteAsync(done.Id);
        var deletedAgain = await Client.DeleteAsync(done.Id);

        Assert.Matches("^m-[0-9a-f]{12}$", model.Version);
        Assert.Equal(37, model.FeatureNames.Count);
        Assert.Contains("Grupo LATAM", model.Airlines);
        Assert.Equal(900, summary.ScoredRows);
        Assert.Equal(10, summary.Histogram.Count);
        Assert.Equal(Enumerable.Range(101, 10), page.Items.Select(r => r.Row));
        Assert.Equal(done.Id, Assert.Single(listed.Items).Id);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        Assert.True(deleted);
        Assert.False(deletedAgain);
    }

    [Fact]
    public async Task A_job_canceled_while_queued_or_running_ends_canceled()
    {
        var csv = Path.Combine(_folder, "long.csv");
        await File.WriteAllTextAsync(csv, JobApi.Csv(JobApi.Flights(100_000)));
        // The owner's one window slot is held by a chunk a live worker leased, so none of the job's chunks is sent: it
        // is still queued when the cancel arrives, however fast the upload and the scoring are.
        await using var hold = await WindowHold.StartAsync(_factory.Services);
        var submitted = await Client.SubmitFileAsync(csv);
        var canceled = await Client.CancelAsync(submitted.Job.Id);
        var final = await Client.WaitAsync(submitted.Job.Id);

        Assert.Equal(JobStatuses.Canceled, canceled.Status);
        Assert.Equal(JobStatuses.Canceled, final.Status);
        Assert.True(final.IsFinal);
    }

    private static async Task WriteUploadAsync(string path, string extension, (string Airline, string FlightType, int Month)[] flights)
    {
        switch (extension)
        {
            case "csv":
                await File.WriteAllTextAsync(path, JobApi.Csv(flights));
                break;
            case "jsonl":
                await File.WriteAllLinesAsync(path, flights.Select(f => JsonSerializer.Serialize(new { airline = f.Airline, flightType = f.FlightType, month = f.Month })));
                break;
            default:
                await File.WriteAllBytesAsync(path, await ParquetTool.WriteAsync(new Dictionary<string, ParquetTool.Column>
                {
                    ["airline"] = new("utf8", [.. flights.Select(f => (object?)f.Airline)]),
                    ["flightType"] = new("utf8", [.. flights.Select(f => (object?)f.FlightType)]),
                    ["month"] = new("int32", [.. flights.Select(f => (object?)f.Month)]),
                }));
                break;
        }
    }

    private static async Task<List<(int Row, bool Delayed, float Probability)>> ReadResultsAsync(string path, ResultFormat format)
    {
        switch (format)
        {
            case ResultFormat.Csv:
                var lines = await File.ReadAllLinesAsync(path);
                Assert.Equal("row,delayed,probability,model_version", lines[0]);
                return [.. lines.Skip(1).Select(l => l.Split(',')).Select(f => (int.Parse(f[0], System.Globalization.CultureInfo.InvariantCulture), f[1] == "1",
                    float.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture)))];
            case ResultFormat.JsonLines:
                return [.. (await File.ReadAllLinesAsync(path)).Select(l => JsonDocument.Parse(l).RootElement)
                    .Select(r => (r.GetProperty("row").GetInt32(), r.GetProperty("delayed").GetBoolean(), r.GetProperty("probability").GetSingle()))];
            default:
                var (columns, rows) = await ParquetTool.ReadAsync(await File.ReadAllBytesAsync(path));
                Assert.Equal(["row", "delayed", "probability", "model_version"], columns.Select(c => c.Name));
                return [.. rows.Select(r => (r.GetProperty("row").GetInt32(), r.GetProperty("delayed").GetBoolean(), r.GetProperty("probability").GetSingle()))];
        }
    }

    /// <summary>Notes every request the client sends (inside its retry policy, so each retry is a request of its own).</summary>
    internal sealed class Recorder(List<Recorder.Seen> seen) : DelegatingHandler
    {
        public sealed record Seen(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers)
        {
            public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
                .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
            if (request.Content?.Headers.ContentType is { } type) headers["Content-Type"] = type.MediaType!;
            lock (seen) seen.Add(new Seen(request.Method, request.RequestUri!, headers));
            return base.SendAsync(request, cancellationToken);
        }
    }

    internal sealed class Inline<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
