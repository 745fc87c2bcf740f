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
    /// after a slot was freed. Never throws for a failure: the claimed chunks are then the stall sweep's, and unclaimed
    /// ones wait for its top-up.
    /// </summary>
    public async Task SendHeldAsync(Func<CancellationToken, Task<IReadOnlyList<ScoreChunk>>> claim, CancellationToken cancellationToken)
    {
        try
        {
            await SendAsync(await claim(cancellationToken), cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Could not send held chunks now; the stall sweep will");
        }
    }

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
