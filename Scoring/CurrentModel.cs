namespace FlightDelay.Scoring;

/// <summary>
/// The model being served, swapped whole when <see cref="ModelReloader"/> loads a new one. Read <see cref="Model"/>
/// once per request or chunk and use that instance throughout, so a prediction and the version reported with it always
/// come from the same model. A swapped-out model lives on while in-flight work holds it, then the GC takes it.
/// </summary>
public sealed class CurrentModel(FlightModel initial)
{
    // A plain volatile read on the hot path: no lock, no options lookup, no allocation.
    private volatile FlightModel _model = initial;
    private volatile ModelLoadFailure? _failure;

    public FlightModel Model => _model;

    private volatile FlightModel? _challenger;

    /// <summary>The registry's challenger, scoring beside the champion in the shadow (its answers stored, never returned); null when none is set.</summary>
    public FlightModel? Challenger => _challenger;

    /// <summary>Sets or clears the challenger (the model registry does, when its role changes).</summary>
    public void Challenge(FlightModel? challenger) => _challenger = challenger;

    /// <summary>Why the model files last failed to load, while the previous model goes on serving; null when they loaded.</summary>
    public ModelLoadFailure? Failure => _failure;

    /// <summary>Serves <paramref name="model"/> from now on and returns the one it replaces (hot reload, or the registry's champion changing).</summary>
    public FlightModel Swap(FlightModel model)
    {
        _failure = null;
        return Interlocked.Exchange(ref _model, model);
    }

    internal void Failed(ModelLoadFailure failure) => _failure = failure;

    internal void Recovered() => _failure = null;
}

/// <summary>A reload that failed: from where (a folder, or the configuration), when, and why.</summary>
public sealed record ModelLoadFailure(string Source, DateTimeOffset At, string Reason);

/// <summary>
/// Hears of each model that hot reload brought in from <c>Model:Directory</c>, after this process serves it (the model
/// registry registers it and makes it champion for every process).
/// </summary>
public interface IModelDeployment
{
    /// <summary>Called on the reloader's loop; a failure is logged and leaves the new model serving in this process.</summary>
    Task DeployedAsync(FlightModel model, CancellationToken cancellationToken);
}
