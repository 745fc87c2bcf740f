using System.Text.Json;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The seed's scikit-learn model (<c>../shared/seed/seed_model.pkl</c>), reduced to its 37 coefficients and
/// intercept in <c>TestData/seed-model.json</c> with Debian's python3-sklearn. Predicts as <c>model.predict</c> did.
/// </summary>
internal sealed class SeedModel
{
    public static SeedModel Instance { get; } = Load();

    public required double[] Coefficients { get; init; }
    public required double Intercept { get; init; }

    public bool Predict(ReadOnlySpan<float> features)
    {
        var z = Intercept;
        for (var i = 0; i < Coefficients.Length; i++) z += Coefficients[i] * features[i];
        return z > 0;
    }

    private static SeedModel Load()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "seed-model.json")));
        return new SeedModel
        {
            Coefficients = [.. json.RootElement.GetProperty("coefficients").EnumerateArray().Select(e => e.GetDouble())],
            Intercept = json.RootElement.GetProperty("intercept").GetDouble(),
        };
    }
}
