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
