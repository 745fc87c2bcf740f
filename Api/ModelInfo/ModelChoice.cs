using FlightDelay.Api.Infrastructure;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.ModelInfo;

/// <summary>A request's <c>model=VERSION</c>: the registered version it names, or the 400 that lists the registered ones.</summary>
internal static class ModelChoice
{
    /// <summary>Longer is no version: refused without asking the database.</summary>
    private const int MaxVersionLength = 64;

    /// <summary>The registered version <paramref name="version"/>, loaded; null when there is none such.</summary>
    public static ValueTask<FlightModel?> FindAsync(ModelRegistry registry, string version, CancellationToken cancellationToken) =>
        version.Length is 0 or > MaxVersionLength ? ValueTask.FromResult<FlightModel?>(null) : registry.FindAsync(version, cancellationToken);

    /// <summary>The model a new job is pinned to: <paramref name="requested"/>, or the champion; null when the requested one is unknown.</summary>
    public static async Task<FlightModel?> PinAsync(ModelRegistry registry, string? requested, CancellationToken cancellationToken) =>
        requested is { Length: 0 or > MaxVersionLength } ? null : await registry.PinAsync(requested, cancellationToken);

    /// <summary>400: <paramref name="requested"/> is not a registered version; <c>versions</c> lists those that are, newest first.</summary>
    public static async Task<ProblemHttpResult> UnknownAsync(ModelRegistry registry, string requested, CancellationToken cancellationToken)
    {
        var versions = await registry.VersionsAsync(cancellationToken);
        return Problems.BadRequest($"model '{requested}' is not a registered model version; the registered versions are {string.Join(", ", versions)} (GET /v1/models).",
            new Dictionary<string, object?> { ["versions"] = versions });
    }
}
