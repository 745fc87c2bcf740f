using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Fairness for small jobs: a job of at most Jobs:ExpressRows rows goes to the express lane (its own queue and consumer
/// slots), so it is scored at once even with a big job's chunks queued ahead of it; a job past the limit waits for a slot
/// of its key's dispatch window (<see cref="FairDispatchTests"/>).
/// The big job's 100 chunks are queued while no worker runs, then one worker scoring one chunk at a time starts.
/// </summary>
public sealed class ExpressLaneTests
{
    private static async Task<Pipeline> StartAsync() =>
        await Pipeline.StartAsync(workers: 0, new Dictionary<string, string?> { ["Jobs:ExpressRows"] = "100" });

    [Fact]
    public async Task A_small_job_is_scored_before_the_big_job_queued_ahead_of_it()
    {
        await using var pipeline = await StartAsync();
        var big = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(100 * 500, seed: 1)));
        var flights = JobApi.Flights(100, seed: 2);
        var small = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));

        await pipeline.StartWorkerAsync();
        await pipeline.Api.WaitForStatusAsync(small, "succeeded");
        var bigThen = await pipeline.Api.GetJobAsync(big);
        Assert.True(bigThen.GetProperty("chunksDone").GetInt32() < 100, $"the big job was done first: {bigThen}");

        var results = await pipeline.Api.AllResultsAsync(small);
        Assert.Equal((await pipeline.Api.PredictAsync(flights)).Select(p => p.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));
        await pipeline.Api.WaitForStatusAsync(big, "succeeded");
    }

    [Fact]
    public async Task A_job_past_the_express_limit_waits_for_a_slot_of_the_window_not_for_the_whole_big_job()
    {
        await using var pipeline = await StartAsync();
        var big = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(100 * 500, seed: 3)));
        var small = await pipeline.Api.SubmitAsync(JobApi.Csv(JobApi.Flights(101, seed: 4)));
        // The big job filled the key's dispatch window (Jobs:DispatchWindow, 32): the small one's chunk is held.
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND dispatched_at IS NOT NULL", ("id", small)));

        await pipeline.StartWorkerAsync();
        await pipeline.Api.WaitForStatusAsync(small, "succeeded");
        Assert.True((await pipeline.Api.GetJobAsync(big)).GetProperty("chunksDone").GetInt32() < 100, "the small job waited for the whole big job");
        await pipeline.Api.WaitForStatusAsync(big, "succeeded");
    }
}
