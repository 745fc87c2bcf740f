using FlightDelay.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Thin: the work, and what makes it exactly-once, is in <see cref="ChunkProcessor"/>.</summary>
public sealed class ScoreChunkConsumer(ChunkProcessor processor) : IConsumer<ScoreChunk>
{
    public Task Consume(ConsumeContext<ScoreChunk> context) => processor.ProcessAsync(context.Message, context.CancellationToken);
}

/// <summary>Queue name, concurrency and prefetch from <see cref="JobOptions"/>; no broker retries (<see cref="ChunkProcessor"/> owns the one retry policy).</summary>
public sealed class ScoreChunkConsumerDefinition : ConsumerDefinition<ScoreChunkConsumer>
{
    private readonly JobOptions _options;

    public ScoreChunkConsumerDefinition(IOptions<JobOptions> options)
    {
        _options = options.Value;
        EndpointName = _options.QueueName;
        ConcurrentMessageLimit = _options.ConcurrentChunks;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ScoreChunkConsumer> consumerConfigurator, IRegistrationContext context)
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
