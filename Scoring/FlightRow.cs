using Microsoft.ML.Data;

namespace FlightDelay.Scoring;

/// <summary>ML.NET's view of one flight: the 37 features, plus label and weight when training.</summary>
internal sealed class FlightRow
{
    public bool Label { get; set; }

    [VectorType(FlightSchema.FeatureCount)]
    public float[] Features { get; set; } = new float[FlightSchema.FeatureCount];

    /// <summary>Class-balancing weight n / (2 * n_class), as scikit-learn's class_weight='balanced'.</summary>
    public float Weight { get; set; } = 1;
}

internal sealed class FlightScore
{
    public bool PredictedLabel { get; set; }
    public float Probability { get; set; }
}
