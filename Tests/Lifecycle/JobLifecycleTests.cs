using FlightDelay.Contracts;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;

namespace FlightDelay.Tests.Lifecycle;

/// <summary>
/// The fast tier: each transition of <see cref="JobLifecycle"/> on SQLite, with a clock the test moves, and the chunk
/// consumer on MassTransit's test harness (duplicates, a lease lost, the retry budget). Run alone with
/// <c>scripts/test-fast</c>.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class JobLifecycleTests : IAsyncLifetime
{
    private LifecycleHost _host = null!;

    public async Task InitializeAsync() => _host = await LifecycleHost.StartAsync(new Dictionary<string, string?>
    {
        ["Jobs:LeaseDuration"] = "00:01:00",
        ["Jobs:StallTimeout"] = "00:02:00",
        ["Jobs:RetryBackoff"] = "00:00:05",
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_receiving_job_holds_its_key_and_is_queued_only_when_accepted()
    {
        var first = await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", "key-1", null, null, JobPriority.Normal, null), CancellationToken.None));
        var second = await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", "key-1", null, null, JobPriority.Normal, null), CancellationToken.None));
        var otherOwner = await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("someone-else", "key-1", null, null, JobPriority.Normal, null), CancellationToken.None));

        Assert.False(first.Existing);
        Assert.True(second.Existing);
        Assert.Equal(first.Job.Id, second.Job.Id);
        Assert.Equal(JobStatus.Receiving, second.Job.Status);
        Assert.False(otherOwner.Existing);
        // Invisible to the client, not counted in the gauges, not active for the consumers.
        var (byState, _) = await _host.WithLifecycleAsync(l => l.StateAsync(CancellationToken.None));
        Assert.Equal(0, byState.Values.Sum());
        Assert.Equal(CancelResult.NotFound, (await _host.WithLifecycleAsync(l => l.CancelAsync(first.Job.Id, "", CancellationToken.None))).Result);

        await _host.WithLifecycleAsync(l => l.AcceptAsync(first.Job, 0, 0, 0, "h", null, CancellationToken.None));
        Assert.Equal(JobStatus.Queued, (await _host.JobAsync(first.Job.Id))!.Status);
    }

    [Fact]
    public async Task An_abandoned_intake_removes_the_job_and_its_staged_chunks_and_frees_the_key()
    {
        var job = (await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", "key-2", null, null, JobPriority.Normal, null), CancellationToken.None))).Job;
        await _host.WithLifecycleAsync(l => l.StageChunkAsync(job, 0, 1, 1, [0], null, null, [], dispatched: true, CancellationToken.None));

        await _host.WithLifecycleAsync(async l => { await l.AbandonIntakeAsync(job.Id); return 0; });

        Assert.Null(await _host.JobAsync(job.Id));
        Assert.Equal(0, await _host.QueryAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Chunks)));
        Assert.False((await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", "key-2", null, null, JobPriority.Normal, null), CancellationToken.None))).Existing);
    }

    [Fact]
    public async Task Uploads_older_than_the_longest_upload_time_are_swept_and_younger_ones_kept()
    {
        var old = (await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", null, null, null, JobPriority.Normal, null), CancellationToken.None))).Job;
        _host.Clock.Advance(TimeSpan.FromMinutes(25));
        var young = (await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", null, null, null, JobPriority.Normal, null), CancellationToken.None))).Job;
        _host.Clock.Advance(TimeSpan.FromMinutes(7)); // old: 32 minutes, past 30 and a minute's grace; young: 7

        Assert.Equal(1, await _host.WithLifecycleAsync(l => l.RemoveAbandonedIntakesAsync(CancellationToken.None)));
        Assert.Null(await _host.JobAsync(old.Id));
        Assert.NotNull(await _host.JobAsync(young.Id));
        // The upload that outlived its job cannot stage or accept anything any more.
        Assert.Equal(AcceptResult.Gone, (await _host.WithLifecycleAsync(l => l.AcceptAsync(old, 1, 0, 1, "h", null, CancellationToken.None))).Result);
    }

    [Fact]
    public async Task Accepting_past_the_backlog_limit_is_refused()
    {
        await using var host = await LifecycleHost.StartAsync(new Dictionary<string, string?> { ["Jobs:MaxQueuedRows"] = "250" });
        await host.SubmitAsync(chunks: 2);
        var job = (await host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", null, null, null, JobPriority.Normal, null), CancellationToken.None))).Job;

        var outcome = await host.WithLifecycleAsync(l => l.AcceptAsync(job, 100, 0, 1, "h", null, CancellationToken.None));

        Assert.Equal(AcceptResult.Busy, outcome.Result);
        Assert.Equal(200, outcome.Backlog);
    }

    [Fact]
    public async Task A_lease_that_ran_out_writes_nothing_even_when_nobody_took_the_chunk_over()
    {
        var job = await _host.SubmitAsync(chunks: 2);
        var first = await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 0), "w1", CancellationToken.None));
        var second = await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 1), "w1", CancellationToken.None));

        // w1 is paused (SIGSTOP) past both leases; meanwhile the client cancels the job, so nobody leases its chunks again.
        _host.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        Assert.Equal(CompleteResult.LeaseLost, await _host.WithLifecycleAsync(l => l.CompleteAsync(first.Chunk!, first.Token, new ScoredChunk("m-1", new byte[500], null, null), TimeSpan.Zero, CancellationToken.None)));
        await _host.WithLifecycleAsync(l => l.CancelAsync(job.Id, "", CancellationToken.None));
        Assert.Equal(CompleteResult.LeaseLost, await _host.WithLifecycleAsync(l => l.CompleteAsync(second.Chunk!, second.Token, new ScoredChunk("m-1", new byte[500], null, null), TimeSpan.Zero, CancellationToken.None)));

        Assert.Equal(0, await _host.ResultCountAsync(job.Id));
        Assert.Equal((JobStatus.Canceled, 0), ((await _host.JobAsync(job.Id))!.Status, (await _host.JobAsync(job.Id))!.ProcessedRows));
    }

    [Fact]
    public async Task A_chunk_is_leased_once_and_only_the_current_lease_completes_it()
    {
        var job = await _host.SubmitAsync(chunks: 2);
        var command = new ScoreChunk(job.Id, 0);

        var first = await _host.WithLifecycleAsync(l => l.LeaseAsync(command, "w1", CancellationToken.None));
        var duplicate = await _host.WithLifecycleAsync(l => l.LeaseAsync(command, "w2", CancellationToken.None));
        Assert.Equal(LeaseResult.Leased, first.Result);
        Assert.Equal(LeaseResult.Skipped, duplicate.Result);
        Assert.Equal(JobStatus.Running, (await _host.JobAsync(job.Id))!.Status);

        // w1 stalls past its lease; w2 takes the chunk over and finishes it; w1's late completion writes nothing.
        _host.Clock.Advance(TimeSpan.FromMinutes(2));
        var takeover = await _host.WithLifecycleAsync(l => l.LeaseAsync(command, "w2", CancellationToken.None));
        Assert.Equal(LeaseResult.Leased, takeover.Result);
        Assert.Equal(CompleteResult.Completed, await _host.WithLifecycleAsync(l => l.CompleteAsync(takeover.Chunk!, takeover.Token, new ScoredChunk("m-1", new byte[500], null, null), TimeSpan.Zero, CancellationToken.None)));
        Assert.Equal(CompleteResult.LeaseLost, await _host.WithLifecycleAsync(l => l.CompleteAsync(first.Chunk!, first.Token, new ScoredChunk("m-1", new byte[500], null, null), TimeSpan.Zero, CancellationToken.None)));
        Assert.Equal(1, await _host.ResultCountAsync(job.Id));

        var last = await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 1), "w1", CancellationToken.None));
        Assert.Equal(CompleteResult.JobSucceeded, await _host.WithLifecycleAsync(l => l.CompleteAsync(last.Chunk!, last.Token, new ScoredChunk("m-1", new byte[500], null, null), TimeSpan.Zero, CancellationToken.None)));
        var done = (await _host.JobAsync(job.Id))!;
        Assert.Equal((JobStatus.Succeeded, 200, 2), (done.Status, done.ProcessedRows, done.ChunksDone));
        Assert.Equal(LeaseResult.Skipped, (await _host.WithLifecycleAsync(l => l.LeaseAsync(command, "w3", CancellationToken.None))).Result);
    }

    [Fact]
    public async Task A_released_chunk_is_sent_again_only_after_its_backoff_which_doubles()
    {
        var job = await _host.SubmitAsync(chunks: 1);
        var command = new ScoreChunk(job.Id, 0);

        foreach (var (attempt, backoff) in new[] { (1, 5), (2, 10), (3, 20) })
        {
            var lease = await _host.WithLifecycleAsync(l => l.LeaseAsync(command, "w", CancellationToken.None));
            Assert.Equal(attempt, lease.Chunk!.Attempts);
            await _host.WithLifecycleAsync(async l => { await l.ReleaseAsync(lease.Chunk!, lease.Token, "boom"); return 0; });

            _host.Clock.Advance(TimeSpan.FromSeconds(backoff - 1));
            Assert.Empty(await _host.WithLifecycleAsync(l => l.ClaimStalledAsync(10, CancellationToken.None)));
            _host.Clock.Advance(TimeSpan.FromSeconds(2));
            Assert.Equal(new[] { (command, false) }, await _host.WithLifecycleAsync(l => l.ClaimStalledAsync(10, CancellationToken.None)));
            // Claimed by this sweep: another host's sweep right after finds nothing to send.
            Assert.Empty(await _host.WithLifecycleAsync(l => l.ClaimStalledAsync(10, CancellationToken.None)));
        }
        Assert.Equal("boom", (await _host.ChunkAsync(job.Id, 0)).Error);
    }

    [Fact]
    public async Task A_small_jobs_stalled_chunk_is_sent_again_to_the_express_lane()
    {
        var small = await _host.SubmitAsync(chunks: 1, chunkRows: LifecycleHost.ChunkSize / 2);
        var big = await _host.SubmitAsync(chunks: 1);
        _host.Clock.Advance(TimeSpan.FromMinutes(3));
        var claimed = await _host.WithLifecycleAsync(l => l.ClaimStalledAsync(10, CancellationToken.None));
        Assert.Equal([(new ScoreChunk(small.Id, 0), true), (new ScoreChunk(big.Id, 0), false)], claimed.OrderBy(c => c.Command.JobId == big.Id));
    }

    [Fact]
    public async Task Held_chunks_fill_the_owners_window_high_priority_first_then_one_per_freed_slot()
    {
        await using var host = await LifecycleHost.StartAsync(new Dictionary<string, string?> { ["Jobs:DispatchWindow"] = "3" });
        var normal = await host.SubmitAsync(chunks: 4, dispatched: false);
        var high = await host.SubmitAsync(chunks: 2, dispatched: false, priority: JobPriority.High);

        Assert.Equal([new(high.Id, 0), new(high.Id, 1), new ScoreChunk(normal.Id, 0)], await host.WithLifecycleAsync(l => l.ClaimHeldAsync("", CancellationToken.None)));
        Assert.Empty(await host.WithLifecycleAsync(l => l.ClaimHeldAsync("", CancellationToken.None)));
        Assert.Empty(await host.WithLifecycleAsync(l => l.ClaimAllHeldAsync(CancellationToken.None)));

        var lease = await host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(high.Id, 0), "w", CancellationToken.None));
        await host.WithLifecycleAsync(l => l.CompleteAsync(lease.Chunk!, lease.Token, new ScoredChunk("m-1", new byte[LifecycleHost.ChunkSize * 5], null, null), TimeSpan.Zero, CancellationToken.None));
        Assert.Equal([new ScoreChunk(normal.Id, 1)], await host.WithLifecycleAsync(l => l.ClaimHeldAfterAsync(high.Id, CancellationToken.None)));
        Assert.Empty(await host.WithLifecycleAsync(l => l.ClaimHeldAfterAsync(high.Id, CancellationToken.None)));

        // A canceled job's chunks out no longer count: its slots go to the owner's other jobs.
        await host.WithLifecycleAsync(l => l.CancelAsync(high.Id, "", CancellationToken.None));
        Assert.Equal([new ScoreChunk(normal.Id, 2)], await host.WithLifecycleAsync(l => l.ClaimAllHeldAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task A_host_stopping_hands_its_chunk_back_without_spending_an_attempt()
    {
        var job = await _host.SubmitAsync(chunks: 1);
        var lease = await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 0), "w", CancellationToken.None));

        await _host.WithLifecycleAsync(async l => { await l.ReleaseAsync(lease.Chunk!, lease.Token, error: null); return 0; });

        var chunk = await _host.ChunkAsync(job.Id, 0);
        Assert.Equal((ChunkStatus.Pending, 0), (chunk.Status, chunk.Attempts));
        Assert.Equal(LeaseResult.Leased, (await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 0), "w2", CancellationToken.None))).Result);
    }

    [Fact]
    public async Task Cancel_ends_an_active_job_once_and_delete_removes_every_row()
    {
        var job = await _host.SubmitAsync(chunks: 2);

        Assert.Equal(CancelResult.Canceled, (await _host.WithLifecycleAsync(l => l.CancelAsync(job.Id, "", CancellationToken.None))).Result);
        Assert.Equal(CancelResult.AlreadyFinal, (await _host.WithLifecycleAsync(l => l.CancelAsync(job.Id, "", CancellationToken.None))).Result);
        Assert.Equal(CancelResult.NotFound, (await _host.WithLifecycleAsync(l => l.CancelAsync(job.Id, "another-owner", CancellationToken.None))).Result);
        Assert.Equal(LeaseResult.Skipped, (await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 0), "w", CancellationToken.None))).Result);

        Assert.False(await _host.WithLifecycleAsync(l => l.DeleteAsync(job.Id, "another-owner", CancellationToken.None)));
        Assert.True(await _host.WithLifecycleAsync(l => l.DeleteAsync(job.Id, "", CancellationToken.None)));
        Assert.Null(await _host.JobAsync(job.Id));
        Assert.Equal(LeaseResult.Missing, (await _host.WithLifecycleAsync(l => l.LeaseAsync(new ScoreChunk(job.Id, 0), "w", CancellationToken.None))).Result);
    }

    [Fact]
    public async Task Finished_jobs_expire_after_their_retention_and_active_ones_never_do()
    {
        var finished = await _host.SubmitAsync(chunks: 1);
        var active = await _host.SubmitAsync(chunks: 1);
        await _host.WithLifecycleAsync(l => l.CancelAsync(finished.Id, "", CancellationToken.None));

        _host.Clock.Advance(TimeSpan.FromDays(8));

        Assert.Equal(1, await _host.WithLifecycleAsync(l => l.ExpireAsync(CancellationToken.None)));
        Assert.Null(await _host.JobAsync(finished.Id));
        Assert.NotNull(await _host.JobAsync(active.Id));
    }

    [Fact]
    public async Task A_final_job_queues_its_callback_and_one_host_claims_each_attempt()
    {
        var job = (await _host.WithLifecycleAsync(l => l.BeginIntakeAsync(l.NewJob("", null, "https://hooks.example.com/x", null, JobPriority.Normal, null), CancellationToken.None))).Job;
        await _host.WithLifecycleAsync(l => l.AcceptAsync(job, 0, 0, 0, "h", null, CancellationToken.None));
        await _host.WithLifecycleAsync(l => l.CancelAsync(job.Id, "", CancellationToken.None));

        var due = await _host.WithLifecycleAsync(l => l.DueCallbacksAsync(10, CancellationToken.None));
        Assert.Equal([(job.Id, 0)], due);
        var claim = await _host.WithLifecycleAsync(l => l.ClaimCallbackAttemptAsync(job.Id, 0, TimeSpan.FromMinutes(1), CancellationToken.None));
        var rival = await _host.WithLifecycleAsync(l => l.ClaimCallbackAttemptAsync(job.Id, 0, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.NotNull(claim);
        Assert.Null(rival);

        await _host.WithLifecycleAsync(async l =>
        {
            await l.RecordCallbackAttemptAsync(new JobCallbackAttempt { JobId = job.Id, Attempt = 1, DeliveryId = Guid.NewGuid(), AttemptedAt = _host.Clock.GetUtcNow().UtcDateTime, StatusCode = 204 },
                CallbackState.Delivered, null);
            return 0;
        });
        Assert.Equal(CallbackState.Delivered, (await _host.JobAsync(job.Id))!.CallbackState);
        Assert.Empty(await _host.WithLifecycleAsync(l => l.DueCallbacksAsync(10, CancellationToken.None)));

        // Asked for again: due now for one more attempt, numbered on from the last; asking twice changes nothing more.
        Assert.Equal(RedeliverResult.Redelivering, (await _host.WithLifecycleAsync(l => l.RedeliverCallbackAsync(job.Id, "", CancellationToken.None))).Result);
        Assert.Equal(RedeliverResult.NotYet, (await _host.WithLifecycleAsync(l => l.RedeliverCallbackAsync(job.Id, "", CancellationToken.None))).Result);
        Assert.Equal(RedeliverResult.NotFound, (await _host.WithLifecycleAsync(l => l.RedeliverCallbackAsync(job.Id, "another-owner", CancellationToken.None))).Result);
        Assert.Equal([(job.Id, 1)], await _host.WithLifecycleAsync(l => l.DueCallbacksAsync(10, CancellationToken.None)));
    }
}
