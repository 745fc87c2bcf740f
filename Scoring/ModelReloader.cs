using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace FlightDelay.Scoring;

/// <summary>
/// Hot reload: loads the model again when the files in <c>Model:Directory</c> change (a file watcher, debounced so
/// that a writer's copy-then-rename of both files settles first), when <c>Model:Directory</c> itself changes in
/// configuration, and every <c>Model:ReloadInterval</c> if the files' size or time changed (for volumes where file
/// events never arrive). A load that fails keeps the current model serving and is reported by the health check.
/// All reloads run one at a time on this service's loop.
/// </summary>
public sealed class ModelReloader : BackgroundService
{
    public const string MeterName = "FlightDelay.Model";

    /// <summary>How long the folder must be quiet before it is read: a writer replaces two files, not one.</summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);

    private readonly CurrentModel _current;
    private readonly IOptionsMonitor<ModelOptions> _options;
    private readonly IEnumerable<IOptionsChangeTokenSource<ModelOptions>> _changeSources;
    private readonly TimeProvider _clock;
    private readonly ILogger<ModelReloader> _logger;
    private readonly Counter<long> _reloads;
    private readonly Channel<bool> _signals = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly ITimer _debounce;
    private FileSystemWatcher? _watcher;
    private string? _directory;
    private FileStamp? _stamp;

    /// <summary>The version the folder held when last read: a file event that leaves it so changes nothing.</summary>
    private string _folderVersion;
    private readonly IEnumerable<IModelDeployment> _deployments;
    private volatile TrainingShareMeasurements _trainingShares = new("", []);

    public ModelReloader(CurrentModel current, IOptionsMonitor<ModelOptions> options, IEnumerable<IOptionsChangeTokenSource<ModelOptions>> changeSources,
        IEnumerable<IModelDeployment> deployments, IMeterFactory meters, TimeProvider clock, ILogger<ModelReloader> logger)
    {
        _current = current;
        _folderVersion = current.Model.Version;
        _deployments = deployments;
        _options = options;
        _changeSources = changeSources;
        _clock = clock;
        _logger = logger;
        _debounce = _clock.CreateTimer(_ => _signals.Writer.TryWrite(true), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var meter = meters.Create(MeterName);
        _reloads = meter.CreateCounter<long>("flightdelay.model.reloads", "{reload}", "Model reloads, by outcome (succeeded, failed).");
        // Prometheus' info idiom: always 1, the version in the label, so dashboards can show which model each process serves.
        meter.CreateObservableGauge("flightdelay.model.info",
            () => new Measurement<int>(1, new KeyValuePair<string, object?>("version", _current.Model.Version)),
            null, "The model version being served (always 1).");
        // Every process exports its champion's training shares, so Prometheus can compare the fleet's inputs
        // (flightdelay.prediction.inputs) with them: the recording rule flightdelay:input_psi:1d.
        meter.CreateObservableGauge("flightdelay.model.training.share", TrainingShares,
            null, "The served model's training data: each input field's values' shares (by version, field, value; fields its card lacks are absent).");
        meter.CreateObservableGauge("flightdelay.model.reload.failed", () => _current.Failure is null ? 0 : 1,
            null, "1 while the latest model reload failed and the previous model goes on serving.");
    }

    /// <summary>The served model's training shares as measurements, built once per version.</summary>
    private IEnumerable<Measurement<double>> TrainingShares()
    {
        var model = _current.Model;
        var shares = _trainingShares;
        if (shares.Version != model.Version)
        {
            var training = model.Card.Training;
            var version = new KeyValuePair<string, object?>("version", model.Version);
            _trainingShares = shares = new(model.Version, training is null ? [] :
                [.. Drift.Fields.SelectMany(f => Drift.TrainingShares(training, f) is { } e
                    ? f.Values.Select((v, i) => new Measurement<double>(e[i], version, new("field", f.Name), new("value", v)))
                    : [])]);
        }
        return shares.Measurements;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _options.CurrentValue;
        if (!options.HotReload)
        {
            _logger.LogInformation("Model hot reload is off (Model:HotReload); serving the model from {Directory} until restart", options.Directory);
            return;
        }

        // Not IOptionsMonitor.OnChange: it never calls back when the new options fail validation (a Model:Directory
        // without model.zip), and that is exactly the change an operator needs to hear about.
        using var configChanges = new CompositeDisposable([.. _changeSources.Select(s => ChangeToken.OnChange(s.GetChangeToken, Changed))]);
        await ReloadAsync(force: false, stoppingToken);

        var interval = options.ReloadInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            var signalled = await WaitAsync(interval, stoppingToken);
            if (stoppingToken.IsCancellationRequested) break;
            await ReloadAsync(force: signalled, stoppingToken);
        }
    }

    /// <summary>True when a file or configuration change asked for a reload; false when the poll interval passed.</summary>
    private async Task<bool> WaitAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (interval > TimeSpan.Zero) wait.CancelAfter(interval);
        try
        {
            await _signals.Reader.ReadAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// Loads the model from the configured folder unless it is the one the folder held at the last read (the registry
    /// may serve another: a promotion is not undone by touching the folder). <paramref name="force"/> (a file or
    /// configuration event) reads the files; otherwise (a poll) only a change in their size or time does.
    /// </summary>
    private async Task ReloadAsync(bool force, CancellationToken stoppingToken)
    {
        string directory;
        try
        {
            directory = _options.CurrentValue.Directory;
        }
        catch (OptionsValidationException ex)
        {
            if (!force && _current.Failure is not null) return; // said so already; a poll need not repeat it
            Fail("the Model configuration", ex.Message, ex);
            return;
        }

        if (directory != _directory)
        {
            Watch(directory);
            force = true;
        }

        var stamp = FileStamp.Of(directory);
        if (!force && stamp == _stamp) return;
        _stamp = stamp;

        var serving = _current.Model;
        FlightModel loaded;
        try
        {
            // Most events are about files we already read (a touch, the second of two renames): the version says so
            // without loading the model. After a failure, load anyway so that a healthy pair of files clears it.
            if (_current.Failure is null && FlightModel.VersionOf(File.ReadAllBytes(Path.Combine(directory, FlightModel.ModelFileName))) == _folderVersion)
                return;

            loaded = FlightModel.Load(directory);
            if (loaded.Version == _folderVersion)
            {
                _current.Recovered();
                _logger.LogInformation("The model files in {Directory} load again; still serving {Version}", directory, serving.Version);
                return;
            }
            _folderVersion = loaded.Version;
            _current.Swap(loaded);
            _reloads.Add(1, new KeyValuePair<string, object?>("outcome", "succeeded"));
            _logger.LogInformation("Model reloaded from {Directory}: {OldVersion} -> {NewVersion} ({Algorithm})", directory, serving.Version, loaded.Version, loaded.Card.Algorithm);
        }
        catch (Exception ex)
        {
            // Whatever a half-written, corrupt or mismatched pair of files throws (I/O, zip, JSON, ML.NET), the model
            // in hand goes on serving.
            Fail(directory, $"{ex.GetType().Name}: {ex.Message}", ex);
            return;
        }

        foreach (var deployment in _deployments)
        {
            try
            {
                await deployment.DeployedAsync(loaded, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                _logger.LogWarning(ex, "Model {Version} serves here but could not be deployed to the registry; other processes keep their champion", loaded.Version);
            }
        }
    }

    private void Fail(string source, string reason, Exception ex)
    {
        _current.Failed(new ModelLoadFailure(source, _clock.GetUtcNow(), reason));
        _reloads.Add(1, new KeyValuePair<string, object?>("outcome", "failed"));
        _logger.LogError(ex, "Could not reload the model from {Source}; still serving {Version}", source, _current.Model.Version);
    }

    private void Changed()
    {
        try
        {
            _debounce.Change(Debounce, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // A file event raced the host's shutdown.
        }
    }

    /// <summary>Watches every entry of the folder, not just the two files: a Kubernetes volume swaps a symlink beside them.</summary>
    private void Watch(string directory)
    {
        _watcher?.Dispose();
        _watcher = null;
        _directory = directory;
        try
        {
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            watcher.Changed += (_, _) => Changed();
            watcher.Created += (_, _) => Changed();
            watcher.Deleted += (_, _) => Changed();
            watcher.Renamed += (_, _) => Changed();
            watcher.Error += (_, e) =>
            {
                _logger.LogWarning(e.GetException(), "Watching {Directory} for model changes failed; the poll (Model:ReloadInterval) still checks it", directory);
                Changed();
            };
            watcher.EnableRaisingEvents = true;
            _watcher = watcher;
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or PlatformNotSupportedException)
        {
            // The folder may appear later; the poll (Model:ReloadInterval) still notices it.
            _logger.LogWarning(ex, "Cannot watch {Directory} for model changes; the poll (Model:ReloadInterval) still checks it", directory);
        }
    }

    public override void Dispose()
    {
        _watcher?.Dispose();
        _debounce.Dispose();
        base.Dispose();
    }

    /// <summary>Size and last write time of both files: cheap to read every few seconds, changed by any real replacement.</summary>
    private readonly record struct FileStamp(long ModelLength, DateTime ModelWritten, long CardLength, DateTime CardWritten)
    {
        public static FileStamp? Of(string directory)
        {
            try
            {
                var model = new FileInfo(Path.Combine(directory, FlightModel.ModelFileName));
                var card = new FileInfo(Path.Combine(directory, FlightModel.CardFileName));
                return model.Exists && card.Exists ? new FileStamp(model.Length, model.LastWriteTimeUtc, card.Length, card.LastWriteTimeUtc) : null;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
            {
                return null;
            }
        }
    }

    private sealed record TrainingShareMeasurements(string Version, Measurement<double>[] Measurements);

    private sealed class CompositeDisposable(IDisposable[] items) : IDisposable
    {
        public void Dispose()
        {
            foreach (var item in items) item.Dispose();
        }
    }
}
