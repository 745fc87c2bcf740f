using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FlightDelay.Processing.Jobs;

/// <summary>
/// A background sweep that runs every <see cref="Interval"/> until the host stops; a sweep that fails is logged and
/// tried again at the next interval, so a database or broker outage never stops it for good.
/// </summary>
public abstract class SweepService(TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected abstract TimeSpan Interval { get; }

    /// <summary>One sweep; returns what it did, for the log.</summary>
    protected abstract Task<string?> SweepOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await SweepOnceAsync(stoppingToken) is { } done)
                    logger.LogInformation("{Sweep}: {Done}", GetType().Name, done);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "{Sweep} failed; trying again in {Interval}", GetType().Name, Interval);
            }
            try
            {
                await Task.Delay(Interval, Clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
