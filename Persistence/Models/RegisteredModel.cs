namespace FlightDelay.Persistence.Models;

/// <summary>The roles a registered model version can hold; at most one version holds each.</summary>
public static class ModelRoles
{
    /// <summary>Scores every job and sync request that names no version.</summary>
    public const string Champion = "champion";

    /// <summary>Scores beside the champion (shadow), its answers stored but never returned.</summary>
    public const string Challenger = "challenger";
}

/// <summary>
/// One model version in the registry (table <c>model_versions</c>), shared by every API and worker process: the
/// <c>model.zip</c> bytes and the <c>model-card.json</c> text as the trainer wrote them, keyed by the content-derived
/// version (<c>m-</c> and 12 hex digits of the model file's SHA-256).
/// </summary>
public sealed class RegisteredModel
{
    /// <summary><c>m-</c> and 12 hex digits: <c>FlightModel.VersionOf</c> the model bytes.</summary>
    public string Version { get; set; } = "";

    /// <summary>The trainer's algorithm, as the card names it (<c>LogisticRegression</c>, <c>FastTree</c>).</summary>
    public string Algorithm { get; set; } = "";

    /// <summary>When it was trained (from the card), UTC.</summary>
    public DateTime TrainedAt { get; set; }

    /// <summary>When it entered the registry, UTC.</summary>
    public DateTime RegisteredAt { get; set; }

    /// <summary>Where it came from: <c>folder</c> (Model:Directory at start or on hot reload), <c>train</c> (Worker train) or <c>upload</c>.</summary>
    public string Source { get; set; } = "";

    /// <summary><see cref="ModelRoles.Champion"/>, <see cref="ModelRoles.Challenger"/>, or null (a candidate, or retired).</summary>
    public string? Role { get; set; }

    /// <summary>When <see cref="Role"/> last changed, UTC; null when it never held one.</summary>
    public DateTime? RoleChangedAt { get; set; }

    /// <summary>The model card, as JSON (camelCase, as <c>model-card.json</c>).</summary>
    public string Card { get; set; } = "";

    /// <summary>The <c>model.zip</c> bytes.</summary>
    public byte[] Model { get; set; } = [];
}
