using FlightDelay.Contracts;
using MassTransit;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Jobs;

/// <summary>Thin: the work, and what makes it exactly-once, is in <see cref="ChunkProcessor"/>.</summary>
public sealed class ScoreChunkConsumer(ChunkProcessor processor) : IConsumer<ScoreChunk>
{
    public Task Consume(ConsumeContext<ScoreChunk> context) => processor.ProcessAsync(context.Message, context.CancellationToken);
}

/// <summary>Queue name, concurrency and prefetch from <see cref="JobOptions"/>; short in-memory retries.</summary>
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
        // Short, in-process retries only: long ones would trip RabbitMQ's consumer ack timeout, and the
        // delayed-exchange plugin is not there. Beyond them the dispatcher re-sends the stalled chunk.
        endpointConfigurator.UseMessageRetry(r => r.Intervals(200, 1000, 3000));
        // The database records every chunk's state and error; a faulted command needs no _error queue copy.
        endpointConfigurator.DiscardFaultedMessages();
    }
}
