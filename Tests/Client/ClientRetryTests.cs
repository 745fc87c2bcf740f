using System.Net;
using FlightDelay.Client;
using FlightDelay.Contracts;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Client;

/// <summary>
/// The client's retry policy against the real embedded API: a connection that breaks after the server has answered a
/// submission (the answer is lost on its way back) is retried with the same Idempotency-Key and finds the job it made,
/// so there is one job; requests that are not safe to repeat are not retried; Retry-After is waited for.
/// </summary>
public sealed class ClientRetryTests : IAsyncLifetime
{
    private ApiFactory _factory = null!;
    private ServiceProvider _services = null!;
    private readonly Faults _faults = new();
    private readonly List<ClientRoundTripTests.Recorder.Seen> _seen = [];
    private readonly string _folder = Directory.CreateTempSubdirectory("flightdelay-retry-").FullName;
    private FlightDelayClient _client = null!;

    public Task InitializeAsync()
    {
        // One chunk out at a time (Jobs:DispatchWindow), so the cancel test can hold the window and keep its job queued.
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:ConcurrentChunks", "1").With("Jobs:DispatchWindow", "1");
        _ = _factory.Server;
        var services = new ServiceCollection();
        services.AddFlightDelayClient(o =>
            {
                o.BaseAddress = _factory.Server.BaseAddress;
                o.RetryDelay = TimeSpan.FromMilliseconds(20);
                o.PollInterval = TimeSpan.FromMilliseconds(50);
            })
            .ConfigurePrimaryHttpMessageHandler(() => _factory.Server.CreateHandler())
            .AddHttpMessageHandler(() => new ClientRoundTripTests.Recorder(_seen))
            .AddHttpMessageHandler(() => new FaultyNetwork(_faults));
        _services = services.BuildServiceProvider();
        _client = _services.GetRequiredService<FlightDelayClient>();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _factory.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_submit_whose_answer_is_lost_is_retried_with_its_key_and_makes_one_job()
    {
        var csv = Path.Combine(_folder, "flights.csv");
        await File.WriteAllTextAsync(csv, JobApi.Csv(JobApi.Flights(1_200)));
        _faults.DropAnswerOf(HttpMethod.Post, "/v1/jobs");

        var submitted = await _client.SubmitFileAsync(csv);
        var job = await _client.WaitAsync(submitted.Job.Id);
        var jobs = await _client.ListJobsAsync(new JobListQuery { Limit = 100 });

        Assert.Equal(1, _faults.Dropped);
        var posts = _seen.Where(r => r.Method == HttpMethod.Post).ToList();
        Assert.Equal(2, posts.Count);
        Assert.All(posts, p => Assert.Equal(submitted.IdempotencyKey, p.Header("Idempotency-Key")));
        Assert.True(submitted.Replayed);
        Assert.Equal(submitted.Job.Id, Assert.Single(jobs.Items).Id);
        Assert.Equal(JobStatuses.Succeeded, job.Status);
        Assert.Equal(1_200, job.ProcessedRows);
    }

    [Fact]
    public async Task A_cancel_whose_answer_is_lost_is_not_sent_again()
    {
        var csv = Path.Combine(_folder, "flights.csv");
        await File.WriteAllTextAsync(csv, JobApi.Csv(JobApi.Flights(3_000)));
        // Its chunks wait behind a chunk held in the owner's one window slot: the job is queued when the cancel arrives.
        await using var hold = await WindowHold.StartAsync(_factory.Services);
        var submitted = await _client.SubmitFileAsync(csv);
        _faults.DropAnswerOf(HttpMethod.Post, $"/v1/jobs/{submitted.Job.Id}/cancel");

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.CancelAsync(submitted.Job.Id));

        Assert.Single(_seen, r => r.Uri.AbsolutePath.EndsWith("/cancel", StringComparison.Ordinal));
        // It did reach the service: the job was canceled once, by the request whose answer was lost.
        Assert.Equal(JobStatuses.Canceled, (await _client.WaitAsync(submitted.Job.Id)).Status);
    }

    [Fact]
    public async Task A_503_with_Retry_After_is_waited_for_and_retried()
    {
        _faults.Answer503Once("/v1/model", retryAfterSeconds: 1);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var model = await _client.GetModelAsync();

        Assert.Matches("^m-", model.Version);
        Assert.Equal(2, _seen.Count(r => r.Uri.AbsolutePath == "/v1/model"));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed.TotalMilliseconds} ms, before Retry-After's 1 s");
    }

    [Fact]
    public async Task A_submission_from_a_one_way_stream_is_not_retried()
    {
        _faults.DropAnswerOf(HttpMethod.Post, "/v1/jobs");
        using var pipe = new OneWayStream(System.Text.Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(10))));

        await Assert.ThrowsAsync<HttpRequestException>(() => _client.SubmitAsync(pipe, UploadFormat.Csv));

        Assert.Single(_seen, r => r.Method == HttpMethod.Post);
    }

    /// <summary>What the network does to the next matching request.</summary>
    internal sealed class Faults
    {
        private (HttpMethod? Method, string Path, int RetryAfter)? _next;

        public int Dropped { get; private set; }

        public void DropAnswerOf(HttpMethod method, string path) => _next = (method, path, 0);

        public void Answer503Once(string path, int retryAfterSeconds) => _next = (null, path, retryAfterSeconds);

        public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Func<Task<HttpResponseMessage>> send)
        {
            if (_next is not { } fault || request.RequestUri!.AbsolutePath != fault.Path || (fault.Method is not null && request.Method != fault.Method))
                return await send();
            _next = null;
            if (fault.Method is null)
            {
                var busy = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { RequestMessage = request };
                busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(fault.RetryAfter));
                return busy;
            }
            // The request reaches the server and is answered in full; the answer is lost on the way back.
            var response = await send();
            await response.Content.ReadAsByteArrayAsync();
            response.Dispose();
            Dropped++;
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection was reset after the request was sent (test fault).",
                new IOException("Connection reset by peer"));
        }
    }

    private sealed class FaultyNetwork(Faults faults) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            faults.SendAsync(request, () => base.SendAsync(request, cancellationToken));
    }

    /// <summary>A stream that reads once and cannot seek, as a pipe.</summary>
    private sealed class OneWayStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
