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
        var (byState, backlogAge) = await scope.ServiceProvider.GetRequiredService<JobLifecycle>().StateAsync(cancellationToken);
        metrics.UpdateState(byState, backlogAge.TotalSeconds);
        return null;
    }
}
