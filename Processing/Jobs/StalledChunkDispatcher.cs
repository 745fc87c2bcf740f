using FlightDelay.Contracts;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Sends again the chunks whose command was lost: never published (the API died after saving the job),
/// dropped, discarded after failing, or held by a worker whose lease expired. Runs in every consumer host;
/// an optimistic claim on <see cref="JobChunk.DispatchedAt"/> keeps two hosts from sending the same chunk in one sweep.
/// </summary>
public sealed class StalledChunkDispatcher(
    IServiceScopeFactory scopes,
    ChunkDispatcher dispatcher,
    JobMetrics metrics,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<StalledChunkDispatcher> logger) : SweepService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<string?> SweepOnceAsync(CancellationToken cancellationToken) =>
        await SweepAsync(cancellationToken) is > 0 and var sent ? $"re-dispatched {sent} stalled chunks" : null;

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var now = Clock.GetUtcNow().UtcDateTime;
        var stalledBefore = now - options.Value.StallTimeout;

        var stalled = await db.Chunks.AsNoTracking()
            .Where(c => (c.Status == ChunkStatus.Pending || (c.Status == ChunkStatus.Leased && c.LeaseExpiresAt < now))
                && c.DispatchedAt < stalledBefore
                && db.Jobs.Any(j => j.Id == c.JobId && Job.ActiveStatuses.Contains(j.Status)))
            .OrderBy(c => c.DispatchedAt)
            .Take(1000)
            .Select(c => new { c.JobId, c.ChunkIndex, c.DispatchedAt })
            .ToListAsync(cancellationToken);

        var claimed = new List<ScoreChunk>();
        foreach (var chunk in stalled)
        {
            var won = await db.Chunks
                .Where(c => c.JobId == chunk.JobId && c.ChunkIndex == chunk.ChunkIndex && c.DispatchedAt == chunk.DispatchedAt)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.DispatchedAt, now), cancellationToken);
            if (won == 1) claimed.Add(new ScoreChunk(chunk.JobId, chunk.ChunkIndex));
        }

        await dispatcher.SendAsync(claimed, cancellationToken);
        metrics.Redispatched(claimed.Count);
        return claimed.Count;
    }
}
