using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Sends again the chunks whose command was lost: never published (the API died after saving the job),
/// dropped, discarded after failing, or held by a worker whose lease expired. Runs in every consumer host;
/// <see cref="JobLifecycle.ClaimStalledAsync"/> keeps two hosts from sending the same chunk in one sweep.
/// </summary>
public sealed class StalledChunkDispatcher(
    IServiceScopeFactory scopes,
    ChunkDispatcher dispatcher,
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
        var claimed = await scope.ServiceProvider.GetRequiredService<JobLifecycle>().ClaimStalledAsync(1000, cancellationToken);
        await dispatcher.SendAsync(claimed, cancellationToken);
        return claimed.Count;
    }
}
