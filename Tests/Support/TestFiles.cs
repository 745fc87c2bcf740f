using System.Globalization;
using FlightDelay.Scoring;

namespace FlightDelay.Tests.Support;

/// <summary>The seed's data and reference model, copied beside the test binaries.</summary>
internal static class TestFiles
{
    public static string Datasets => Path.Combine(AppContext.BaseDirectory, "datasets");

    public static string ShippedModel => Path.Combine(AppContext.BaseDirectory, "Model");

    /// <summary>The repository's root (where FlightDelay.sln is), above the test binaries: for the Node tools under Tests.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlightDelay.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException("The repository root (FlightDelay.sln) was not found above the test binaries.");
    }

    /// <summary>test.csv as (label, features) rows.</summary>
    public static IReadOnlyList<(bool Delayed, float[] Features)> TestRows { get; } = ReadRows(Path.Combine(Datasets, "test.csv"));

    private static List<(bool, float[])> ReadRows(string path) =>
        [.. File.ReadLines(path).Where(l => l.Length > 0).Select(line =>
        {
            var fields = line.Split(',');
            return (fields[0] == "1", fields.Skip(1).Select(f => float.Parse(f, CultureInfo.InvariantCulture)).ToArray());
        })];

    /// <summary>A flight given by name, with its features computed by the schema under test.</summary>
    public static float[] Encode(string airline, string flightType, int month)
    {
        var features = new float[FlightSchema.FeatureCount];
        Assert.Empty(FlightSchema.TryEncode(airline, flightType, month, features));
        return features;
    }
}
