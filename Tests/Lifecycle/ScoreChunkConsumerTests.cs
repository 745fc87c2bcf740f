using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Tests.Lifecycle;

/// <summary>
/// The chunk consumer on MassTransit's test harness with the real store on SQLite: what a duplicate, a lease held
/// elsewhere and a chunk that keeps failing do, delivery by delivery. (Fast tier.)
/// </summary>
[Trait("Tier", "Fast")]
public sealed class ScoreChunkConsumerTests : IAsyncLifetime
{
    private LifecycleHost _host = null!;

    public async Task InitializeAsync() => _host = await LifecycleHost.StartAsync(new Dictionary<string, string?> { ["Jobs:MaxAttempts"] = "3" });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_command_delivered_twice_scores_the_chunk_once()
    {
        var job = await _host.SubmitAsync(chunks: 1);

        await _host.DeliverAsync(job.Id, 0);
        await _host.DeliverAsync(job.Id, 0);

        var chunk = await _host.ChunkAsync(job.Id, 0);
        Assert.Equal((ChunkStatus.Done, 1), (chunk.Status, chunk.Attempts));
        Assert.Equal(1, await _host.ResultCountAsync(job.Id));
        Assert.Equal(JobStatus.Succeeded, (await _host.JobAsync(job.Id))!.Status);
        Assert.DoesNotContain(_host.Harness.Consumed.Select<FlightDelay.Contracts.ScoreChunk>(), m => m.Exception is not null);
    }

    [Fact]
    public async Task A_chunk_leased_by_a_live_worker_is_left_to_it()
    {
        var job = await _host.SubmitAsync(chunks: 1);
        var held = await _host.WithLifecycleAsync(l => l.LeaseAsync(new FlightDelay.Contracts.ScoreChunk(job.Id, 0), "other-worker", CancellationToken.None));

        await _host.DeliverAsync(job.Id, 0);

        var chunk = await _host.ChunkAsync(job.Id, 0);
        Assert.Equal((ChunkStatus.Leased, "other-worker", 1), (chunk.Status, chunk.WorkerId, chunk.Attempts));
        Assert.Equal(0, await _host.ResultCountAsync(job.Id));
        Assert.Equal(held.Token, chunk.LeaseToken);
    }

    [Fact]
    public async Task Each_delivery_of_a_failing_chunk_is_one_attempt_and_the_last_fails_the_job()
    {
        var job = await _host.SubmitAsync(chunks: 2);
        await _host.QueryAsync(db => db.Inputs.Where(i => i.JobId == job.Id && i.ChunkIndex == 1)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.Features, new byte[] { 7 })));

        for (var delivery = 1; delivery <= 3; delivery++)
        {
            await _host.DeliverAsync(job.Id, 1);
            var chunk = await _host.ChunkAsync(job.Id, 1);
            // No retries inside the broker: one delivery, one attempt, and the consumer does not fault.
            Assert.Equal(delivery, chunk.Attempts);
            Assert.Equal(delivery < 3 ? ChunkStatus.Pending : ChunkStatus.Failed, chunk.Status);
        }

        var failed = (await _host.JobAsync(job.Id))!;
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("Chunk 1 (rows 101-200) failed after 3 attempts", failed.Error);
        Assert.DoesNotContain(_host.Harness.Consumed.Select<FlightDelay.Contracts.ScoreChunk>(), m => m.Exception is not null);
        // A fourth delivery (a late duplicate) changes nothing.
        await _host.DeliverAsync(job.Id, 1);
        Assert.Equal(3, (await _host.ChunkAsync(job.Id, 1)).Attempts);
    }
}
