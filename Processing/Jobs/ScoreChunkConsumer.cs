using FlightDelay.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Thin: the work, and what makes it exactly-once, is in <see cref="ChunkProcessor"/>.</summary>
public class ScoreChunkConsumer(ChunkProcessor processor) : IConsumer<ScoreChunk>
{
    public Task Consume(ConsumeContext<ScoreChunk> context) => processor.ProcessAsync(context.Message, context.CancellationToken);
}

/// <summary>The same work from the express lane's queue (<see cref="JobOptions.ExpressRows"/>): its own endpoint, so its own slots.</summary>
public sealed class ExpressScoreChunkConsumer(ChunkProcessor processor) : ScoreChunkConsumer(processor);

/// <summary>The chunk queue's endpoint: <see cref="JobOptions.QueueName"/>.</summary>
public sealed class ScoreChunkConsumerDefinition(IOptions<JobOptions> options)
    : ChunkEndpointDefinition<ScoreChunkConsumer>(options.Value, options.Value.QueueName);

/// <summary>The express lane's endpoint: <see cref="JobOptions.ExpressQueueName"/>.</summary>
public sealed class ExpressScoreChunkConsumerDefinition(IOptions<JobOptions> options)
    : ChunkEndpointDefinition<ExpressScoreChunkConsumer>(options.Value, options.Value.ExpressQueueName);

/// <summary>Queue name, concurrency and prefetch from <see cref="JobOptions"/>; no broker retries (<see cref="ChunkProcessor"/> owns the one retry policy).</summary>
public abstract class ChunkEndpointDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : ScoreChunkConsumer
{
    private readonly JobOptions _options;

    protected ChunkEndpointDefinition(JobOptions options, string queueName)
    {
        _options = options;
        EndpointName = queueName;
        ConcurrentMessageLimit = _options.ConcurrentChunks;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = _options.ConcurrentChunks * 2;
        // Replicated across the cluster's nodes: a node that goes (even the queue's leader) loses no chunk command.
        if (_options.QueueType == "quorum" && endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
            rabbit.SetQuorumQueue();
        // One delivery is one attempt (JobOptions.MaxAttempts): no UseMessageRetry here. Retries are the stall sweep's,
        // from the database, after a backoff. The database records every chunk's state and error, so a command that
        // faults anyway (the host stopping) needs no _error queue copy.
        endpointConfigurator.DiscardFaultedMessages();
    }
}
