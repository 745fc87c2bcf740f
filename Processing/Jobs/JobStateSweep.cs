using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Reads jobs by state and the age of the oldest unfinished work from the database, for the <c>flightdelay_jobs</c>
/// and <c>flightdelay_job_backlog_age_seconds</c> gauges: a scrape never waits on a query.
/// </summary>
public sealed class JobStateSweep(
    IServiceScopeFactory scopes,
    JobMetrics metrics,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobStateSweep> logger) : SweepService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override async Task<string?> SweepOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var counts = await db.Jobs.GroupBy(j => j.Status).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(cancellationToken);
        var oldest = await db.Jobs.AsNoTracking()
            .Where(j => Job.ActiveStatuses.Contains(j.Status))
            .OrderBy(j => j.CreatedAt)
            .Select(j => (DateTime?)j.CreatedAt)
            .FirstOrDefaultAsync(cancellationToken);

        var byState = Enum.GetValues<JobStatus>().ToDictionary(
            s => s.ToString().ToLowerInvariant(),
            s => counts.FirstOrDefault(c => c.Key == s)?.Count ?? 0);
        metrics.UpdateState(byState, oldest is { } created ? Math.Max(0, (Clock.GetUtcNow().UtcDateTime - created).TotalSeconds) : 0);
        return null;
    }
}
