using FlightDelay.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Removes jobs that finished longer ago than <see cref="JobOptions.Retention"/>, with their rows and results.</summary>
public sealed class JobRetentionService(
    IServiceScopeFactory scopes,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobRetentionService> logger) : SweepService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.RetentionSweepInterval;

    protected override async Task<string?> SweepOnceAsync(CancellationToken cancellationToken) =>
        await RemoveExpiredAsync(cancellationToken) is > 0 and var removed
            ? $"removed {removed} jobs past their retention of {options.Value.Retention}"
            : null;

    public async Task<int> RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var cutoff = Clock.GetUtcNow().UtcDateTime - options.Value.Retention;
        var expired = db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff).Select(j => j.Id);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.ChunkResults.Where(r => expired.Contains(r.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Inputs.Where(i => expired.Contains(i.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Chunks.Where(c => expired.Contains(c.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.CallbackAttempts.Where(a => expired.Contains(a.JobId)).ExecuteDeleteAsync(cancellationToken);
        var removed = await db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }
}
