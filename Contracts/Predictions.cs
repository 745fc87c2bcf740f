using System.ComponentModel;

namespace FlightDelay.Contracts;

/// <summary>The answer of <c>POST /v1/predictions</c>: every flight scored by one model.</summary>
/// <param name="ModelVersion">The model version that scored every flight (<c>m-</c> and 12 hex digits).</param>
/// <param name="Predictions">One per flight, in request order.</param>
public sealed record PredictionResponse(string ModelVersion, IReadOnlyList<FlightPrediction> Predictions);

/// <summary>
/// The answer for the flight at <see cref="Index"/> in the request. <see cref="Probability"/> is the calibrated chance
/// (0 to 1) of a delay of more than 15 minutes; <see cref="Delayed"/> (<see cref="Label"/> 1) is the seed model's
/// recall-oriented decision, true from a probability of about 0.2 (the model card's <c>calibration.decisionThreshold</c>).
/// </summary>
/// <param name="Index">The flight's 0-based position in the request.</param>
/// <param name="Delayed">The seed model's decision.</param>
/// <param name="Label">1 when <paramref name="Delayed"/>, else 0: the seed's label.</param>
/// <param name="Probability">The calibrated probability, 0 to 1.</param>
public sealed record FlightPrediction(
    int Index,
    [property: Description(PredictionFields.Delayed)] bool Delayed,
    [property: Description("1 when delayed is true, else 0: the seed's label.")] int Label,
    [property: Description(PredictionFields.Probability)] float Probability);

/// <summary>What the prediction fields mean, in the words every route's OpenAPI schema uses.</summary>
public static class PredictionFields
{
    /// <summary>What <c>probability</c> means.</summary>
    public const string Probability =
        "The calibrated probability (0 to 1) of a departure delayed more than 15 minutes: of flights given 0.3, about 30 % were delayed (see the model card's calibration).";

    /// <summary>What <c>delayed</c> means.</summary>
    public const string Delayed =
        "The seed model's recall-oriented decision: true from a probability of about 0.2 (the model card's calibration.decisionThreshold); it flags 64 % of delayed flights, of which 26 % are delayed.";
}
