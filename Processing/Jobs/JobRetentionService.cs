using FlightDelay.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Removes jobs that finished longer ago than <see cref="JobOptions.Retention"/>, with their rows and results.</summary>
public sealed class JobRetentionService(
    IServiceScopeFactory scopes,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobRetentionService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var removed = await RemoveExpiredAsync(stoppingToken);
                if (removed > 0) logger.LogInformation("Removed {Count} jobs past their retention of {Retention}", removed, options.Value.Retention);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Retention sweep failed; trying again in {Interval}", options.Value.RetentionSweepInterval);
            }
            try
            {
                await Task.Delay(options.Value.RetentionSweepInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task<int> RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var cutoff = clock.GetUtcNow().UtcDateTime - options.Value.Retention;
        var expired = db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff).Select(j => j.Id);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.Results.Where(r => expired.Contains(r.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Inputs.Where(i => expired.Contains(i.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Chunks.Where(c => expired.Contains(c.JobId)).ExecuteDeleteAsync(cancellationToken);
        var removed = await db.Jobs.Where(j => j.FinishedAt != null && j.FinishedAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return removed;
    }
}
