using System.Diagnostics.Metrics;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Models;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Models;

/// <summary>
/// Live quality as Prometheus series, run by the API process only (the figures come from the database, so one kind of
/// process suffices and every API instance reports them alike). Every <see cref="ModelRegistryOptions.QualityInterval"/>
/// it measures, with <see cref="GroundTruth.MeasureAsync"/>, each monitored version's rows scored in the trailing
/// <see cref="ModelRegistryOptions.QualityWindow"/> whose outcome was reported: the champion this process serves and
/// the registry's challenger, if any. Gauges on the <see cref="ModelReloader.MeterName"/> meter, each with a
/// <c>version</c> attribute: <c>flightdelay.model.live.roc_auc</c>, <c>.recall</c> and <c>.precision</c> (absent
/// while undefined: no outcomes, or one class only), <c>flightdelay.model.live.outcomes</c> (rows with a known
/// outcome), and the card's test figures <c>flightdelay.model.test.roc_auc</c> and <c>.recall</c>. A failed
/// measurement (the database down) is logged once per outage, and the last figures stay.
/// </summary>
public sealed class QualityMonitor : BackgroundService
{
    private readonly CurrentModel _current;
    private readonly IServiceScopeFactory _scopes;
    private readonly IOptionsMonitor<ModelRegistryOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<QualityMonitor> _logger;
    private volatile IReadOnlyList<VersionQuality> _latest = [];
    private bool _failing;

    /// <summary>One version's latest figures: the card's test metrics and the live ones of the window.</summary>
    private sealed record VersionQuality(string Version, ModelMetrics Test, QualityFigures Live);

    public QualityMonitor(CurrentModel current, IServiceScopeFactory scopes, IOptionsMonitor<ModelRegistryOptions> options, IMeterFactory meters,
        TimeProvider clock, ILogger<QualityMonitor> logger)
    {
        _current = current;
        _scopes = scopes;
        _options = options;
        _clock = clock;
        _logger = logger;
        var meter = meters.Create(ModelReloader.MeterName);
        meter.CreateObservableGauge("flightdelay.model.live.roc_auc", () => Observe(q => q.Live.RocAuc), null,
            "ROC AUC of the delayed class over the rows scored in Model:QualityWindow whose outcome was reported, by version.");
        meter.CreateObservableGauge("flightdelay.model.live.recall", () => Observe(q => q.Live.Recall), null,
            "Recall of the delayed class over the same rows, by version.");
        meter.CreateObservableGauge("flightdelay.model.live.precision", () => Observe(q => q.Live.Precision), null,
            "Precision of the delayed class over the same rows, by version.");
        meter.CreateObservableGauge("flightdelay.model.live.outcomes", () => Observe(q => q.Live.Flights), "{flight}",
            "Rows scored in Model:QualityWindow with a reported outcome, by version.");
        meter.CreateObservableGauge("flightdelay.model.test.roc_auc", () => Observe(q => q.Test.RocAuc), null,
            "The model card's ROC AUC on the held-out test set, by version.");
        meter.CreateObservableGauge("flightdelay.model.test.recall", () => Observe(q => q.Test.Recall), null,
            "The model card's recall of the delayed class on the held-out test set, by version.");
    }

    private IEnumerable<Measurement<double>> Observe(Func<VersionQuality, double?> figure)
    {
        foreach (var quality in _latest)
            if (figure(quality) is { } value)
                yield return new Measurement<double>(value, new KeyValuePair<string, object?>("version", quality.Version));
    }

    /// <summary>Measures every monitored version once and publishes the figures; throws when the database does not answer.</summary>
    public async Task MeasureAsync(CancellationToken cancellationToken)
    {
        var options = _options.CurrentValue;
        var until = _clock.GetUtcNow().UtcDateTime;
        var since = until - options.QualityWindow;
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var groundTruth = scope.ServiceProvider.GetRequiredService<GroundTruth>();

        var champion = _current.Model;
        var challengers = await db.Models.AsNoTracking().Where(m => m.Role == ModelRoles.Challenger && m.Version != champion.Version)
            .Select(m => new { m.Version, m.Card }).ToListAsync(cancellationToken);
        var versions = challengers.Select(c => (c.Version, ModelCard.Parse(c.Card).Metrics)).Prepend((champion.Version, champion.Card.Metrics));

        var measured = new List<VersionQuality>();
        foreach (var (version, test) in versions)
        {
            // One bucket as wide as the window: only the total is published.
            var live = await groundTruth.MeasureAsync(version, since, until, options.QualityWindow, cancellationToken);
            measured.Add(new VersionQuality(version, test, live.Total));
        }
        _latest = measured;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await MeasureAsync(stoppingToken);
                if (_failing) _logger.LogInformation("Live model quality is measured again");
                _failing = false;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Once per outage, not every tick; the last figures stay exported.
                if (!_failing) _logger.LogWarning(ex, "Cannot measure live model quality; /metrics keeps the last figures until the database answers");
                _failing = true;
            }
            try
            {
                await Task.Delay(_options.CurrentValue.QualityInterval, _clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
