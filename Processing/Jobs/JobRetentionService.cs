using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Removes jobs that finished longer ago than <see cref="JobOptions.Retention"/>, with their rows and results, and uploads
/// abandoned mid-stream (<see cref="JobLifecycle.RemoveAbandonedIntakesAsync"/>).
/// </summary>
public sealed class JobRetentionService(
    IServiceScopeFactory scopes,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobRetentionService> logger) : SweepService(clock, logger)
{
    protected override TimeSpan Interval => options.Value.RetentionSweepInterval;

    protected override async Task<string?> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var (expired, abandoned) = await RemoveExpiredAsync(cancellationToken);
        return expired + abandoned > 0
            ? $"removed {expired} jobs past their retention of {options.Value.Retention} and {abandoned} uploads that never finished"
            : null;
    }

    public async Task<(int Expired, int Abandoned)> RemoveExpiredAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var lifecycle = scope.ServiceProvider.GetRequiredService<JobLifecycle>();
        return (await lifecycle.ExpireAsync(cancellationToken), await lifecycle.RemoveAbandonedIntakesAsync(cancellationToken));
    }
}
