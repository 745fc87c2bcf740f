using System.ComponentModel;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Predictions;

/// <summary>
/// One flight as clients send it: by name (<c>airline</c>, <c>flightType</c>, <c>month</c>) or as the
/// seed's 37 <c>features</c>, never both.
/// </summary>
/// Settable properties rather than constructor or init parameters: source-generated System.Text.Json reads those
/// through its constructor path, which cost a fifth of a one-flight request.
public sealed record FlightInput
{
    public string? Airline { get; set; }

    public string? FlightType { get; set; }

    /// <summary>1 to 12; a whole number, also when written as <c>7.0</c>.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(Infrastructure.WholeNumberConverter))]
    public int? Month { get; set; }

    public float[]? Features { get; set; }

    /// <summary>Writes the 37 features into <paramref name="features"/>; returns the problems found, or an empty list.</summary>
    public IReadOnlyList<FieldError> TryEncode(Span<float> features)
    {
        if (Features is null)
            return FlightSchema.TryEncode(Airline, FlightType, Month, features);

        if (Airline is not null || FlightType is not null || Month is not null)
            return [new("features", "Give either 'features' or 'airline', 'flightType' and 'month', not both.")];
        if (FlightSchema.Validate(Features) is { } error)
            return [error];
        Features.CopyTo(features);
        return [];
    }
}

public sealed record PredictionRequest
{
    public List<FlightInput?>? Flights { get; set; }
}

public sealed record PredictionResponse(string ModelVersion, IReadOnlyList<FlightPrediction> Predictions);

/// <summary>
/// The answer for the flight at <see cref="Index"/> in the request. <see cref="Probability"/> is the calibrated chance
/// (0 to 1) of a delay of more than 15 minutes; <see cref="Delayed"/> (<see cref="Label"/> 1) is the seed model's
/// recall-oriented decision, true from a probability of about 0.2 (the model card's <c>calibration.decisionThreshold</c>).
/// </summary>
public sealed record FlightPrediction(
    int Index,
    [property: Description(PredictionFields.Delayed)] bool Delayed,
    [property: Description("1 when delayed is true, else 0: the seed's label.")] int Label,
    [property: Description(PredictionFields.Probability)] float Probability);

/// <summary>What the prediction fields mean, in the words every route's OpenAPI schema uses.</summary>
internal static class PredictionFields
{
    public const string Probability =
        "The calibrated probability (0 to 1) of a departure delayed more than 15 minutes: of flights given 0.3, about 30 % were delayed (see the model card's calibration).";

    public const string Delayed =
        "The seed model's recall-oriented decision: true from a probability of about 0.2 (the model card's calibration.decisionThreshold); it flags 64 % of delayed flights, of which 26 % are delayed.";
}
