using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// Sends again the chunks whose command was lost: never published (the API died after saving the job),
/// dropped, discarded after failing, or held by a worker whose lease expired; and tops up every owner's dispatch window
/// (<see cref="JobOptions.DispatchWindow"/>) where slots were freed with nobody to claim them. Runs in every consumer
/// host; <see cref="JobLifecycle.ClaimStalledAsync"/> keeps two hosts from sending the same chunk in one sweep.
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

    /// <summary>One sweep; returns how many stalled chunks it sent again (not counting window top-ups).</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var lifecycle = scope.ServiceProvider.GetRequiredService<JobLifecycle>();
        var claimed = await lifecycle.ClaimStalledAsync(1000, cancellationToken);
        // Each to the lane it first went to: a small job's chunk stays out of the big jobs' queue.
        await dispatcher.SendAsync([.. claimed.Where(c => !c.Express).Select(c => c.Command)], cancellationToken);
        await dispatcher.SendAsync([.. claimed.Where(c => c.Express).Select(c => c.Command)], cancellationToken, express: true);
        await dispatcher.SendAsync(await lifecycle.ClaimAllHeldAsync(cancellationToken), cancellationToken);
        return claimed.Count;
    }
}
