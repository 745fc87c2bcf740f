using FlightDelay.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Sends chunk commands to the scoring queue, all of them in one batch (one confirm wait, not one per message).</summary>
public sealed class ChunkDispatcher(IBus bus, IOptions<JobOptions> options, ILogger<ChunkDispatcher> logger)
{
    /// <summary>
    /// Sends the held chunks that <paramref name="claim"/> takes from a dispatch window (<see cref="JobLifecycle.ClaimHeldAsync"/>)
    /// after a slot was freed. Once claimed they are sent whatever happens to <paramref name="cancellationToken"/> (a
    /// consumer's is canceled when its channel dies with a broker node: exactly when a send is needed), for up to
    /// <see cref="SendFor"/>: a send that fails (its connection died) is tried again after 1 s and 2 s, on the
    /// connection the bus has made meanwhile, so a claimed chunk does not wait a whole <see cref="JobOptions.StallTimeout"/>.
    /// Never throws for a failure: the claimed chunks are then the stall sweep's, and unclaimed ones wait for its top-up.
    /// </summary>
    public async Task SendHeldAsync(Func<CancellationToken, Task<IReadOnlyList<ScoreChunk>>> claim, CancellationToken cancellationToken)
    {
        IReadOnlyList<ScoreChunk> claimed;
        try
        {
            claimed = await claim(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not claim held chunks now; the stall sweep will");
            return;
        }
        if (claimed.Count == 0) return;

        using var sendFor = new CancellationTokenSource(SendFor);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await SendAsync(claimed, sendFor.Token);
                return;
            }
            catch (Exception ex) when (attempt < SendRetries.Length && !sendFor.IsCancellationRequested)
            {
                logger.LogInformation(ex, "Sending {Count} claimed chunks failed; trying again in {Delay}", claimed.Count, SendRetries[attempt]);
                try
                {
                    await Task.Delay(SendRetries[attempt], sendFor.Token);
                }
                catch (OperationCanceledException)
                {
                    // Out of time: as below.
                }
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not send {Count} claimed chunks; the stall sweep will", claimed.Count);
                return;
            }
        }
    }

    /// <summary>Waits before sending claimed chunks again after a failed send.</summary>
    private static readonly TimeSpan[] SendRetries = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)];

    /// <summary>The longest <see cref="SendHeldAsync"/> goes on trying to send what it claimed.</summary>
    private static readonly TimeSpan SendFor = TimeSpan.FromSeconds(10);

    /// <param name="chunks">The commands.</param>
    /// <param name="express">To the express lane (<see cref="JobOptions.ExpressRows"/>): a small job's one chunk.</param>
    /// <param name="cancellationToken">Stops waiting for the broker's confirms.</param>
    public async Task SendAsync(IReadOnlyCollection<ScoreChunk> chunks, CancellationToken cancellationToken, bool express = false)
    {
        if (chunks.Count == 0) return;
        var queue = express ? options.Value.ExpressQueueName : options.Value.QueueName;
        // Sending to queue:NAME declares the queue, so commands sent before any worker started are kept, not dropped.
        // A quorum queue cannot be declared as queue:NAME does (classic arguments: the broker refuses the mismatch), so
        // send to its exchange, which the workers and `migrate` bind to the quorum queue they declare.
        var address = options.Value.QueueType == "quorum" ? $"exchange:{queue}" : $"queue:{queue}";
        var endpoint = await bus.GetSendEndpoint(new Uri(address));
        await endpoint.SendBatch(chunks, cancellationToken);
    }
}
