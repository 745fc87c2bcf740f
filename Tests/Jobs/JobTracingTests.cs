using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// One job is one trace: the upload's HTTP request, the commands it sends to RabbitMQ, the worker consuming them and
/// the worker's database commands share the trace the client started. Listens to the same sources the hosts export
/// over OTLP when an endpoint is configured (ServiceDefaults).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class JobTracingTests
{
    [Fact]
    public async Task A_jobs_request_commands_consumers_and_database_work_share_the_clients_trace()
    {
        var trace = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "MassTransit" or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == trace) spans.Enqueue(activity);
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var pipeline = await Pipeline.StartAsync(workers: 1);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(JobApi.Csv(JobApi.Flights(1200)), Encoding.UTF8, "text/csv") };
        request.Headers.Add("traceparent", $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        var response = await pipeline.Api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = Guid.Parse(response.Headers.Location!.ToString().Split('/')[^1]);
        await pipeline.Api.WaitForStatusAsync(id, "succeeded");

        // Spans end after the work they cover: poll until the worker's side has ended too. Three chunks (500, 500 and
        // 200 rows): a command sent by the API and consumed by the worker for each, all in the client's trace.
        var all = await Poll.UntilAsync(() => Task.FromResult(spans.ToArray()),
            s => Count(s, "MassTransit", ActivityKind.Producer) >= 3 && Count(s, "MassTransit", ActivityKind.Consumer) >= 3
                && s.Any(span => span.Source.Name == "Npgsql" && StartedUnderConsumer(span)),
            JobApi.Deadline, "the API's sends, the worker's consumes and its database spans in the client's trace");
        Assert.Contains(all, s => s.Source.Name == "Microsoft.AspNetCore" && s.Kind == ActivityKind.Server);
    }

    private static int Count(IEnumerable<Activity> spans, string source, ActivityKind kind) =>
        spans.Count(s => s.Source.Name == source && s.Kind == kind);

    private static bool StartedUnderConsumer(Activity span)
    {
        for (var parent = span.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent.Source.Name == "MassTransit" && parent.Kind == ActivityKind.Consumer) return true;
        }
        return false;
    }
}
