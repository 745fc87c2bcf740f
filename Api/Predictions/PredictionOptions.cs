using System.ComponentModel.DataAnnotations;

namespace FlightDelay.Api.Predictions;

/// <summary>Limits of the synchronous prediction endpoints. Bound from <c>Predictions</c>.</summary>
public sealed class PredictionOptions
{
    public const string Section = "Predictions";

    /// <summary>Most flights one <c>POST /v1/predictions</c> may carry.</summary>
    [Range(1, 1_000_000)]
    public int MaxFlightsPerRequest { get; set; } = 10_000;

    /// <summary>Largest body <c>POST /predict_api</c> accepts.</summary>
    [Range(128, 16 * 1024 * 1024)]
    public long MaxSeedBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Largest body <c>POST /v1/predictions</c> accepts.</summary>
    [Range(1024, 256 * 1024 * 1024)]
    public long MaxBodyBytes { get; set; } = 8 * 1024 * 1024;
}
