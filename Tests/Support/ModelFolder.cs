using FlightDelay.Scoring;

namespace FlightDelay.Tests.Support;

/// <summary>
/// A model folder of a test's own (a copy of the shipped model), whose files the test replaces under a running host
/// the way an operator would: copy beside, then rename over. Removed on dispose.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    private ModelFolder(string path) => Path = path;

    public string Path { get; }

    public static ModelFolder CopyOf(string source)
    {
        var folder = new ModelFolder(Directory.CreateTempSubdirectory("flightdelay-model-").FullName);
        folder.ReplaceWith(source);
        return folder;
    }

    public static ModelFolder CopyOfShipped() => CopyOf(TestFiles.ShippedModel);

    /// <summary>Replaces model and card with those of <paramref name="source"/>: each copied beside, then renamed over (atomic).</summary>
    public void ReplaceWith(string source)
    {
        foreach (var name in (string[])[FlightModel.ModelFileName, FlightModel.CardFileName])
            Write(name, File.ReadAllBytes(System.IO.Path.Combine(source, name)));
    }

    /// <summary>Replaces one file's bytes, copied beside and renamed over.</summary>
    public void Write(string name, byte[] bytes)
    {
        var temporary = System.IO.Path.Combine(Path, $".{name}.tmp");
        File.WriteAllBytes(temporary, bytes);
        File.Move(temporary, System.IO.Path.Combine(Path, name), overwrite: true);
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

/// <summary>A second model to swap in: FastTree on a slice of the training data, trained once per test run.</summary>
public static class AlternativeModel
{
    private static readonly Lazy<string> Folder = new(() =>
    {
        var folder = System.IO.Path.Combine(AppContext.BaseDirectory, "TrainedModels", "FastTree");
        Directory.CreateDirectory(folder);
        var train = System.IO.Path.Combine(folder, "train-slice.csv");
        var test = System.IO.Path.Combine(folder, "test-slice.csv");
        File.WriteAllLines(train, File.ReadLines(System.IO.Path.Combine(TestFiles.Datasets, "train.csv")).Take(4_000));
        File.WriteAllLines(test, File.ReadLines(System.IO.Path.Combine(TestFiles.Datasets, "test.csv")).Take(1_000));
        ModelTrainer.Train(train, test, folder, ModelAlgorithm.FastTree);
        return folder;
    });

    /// <summary>The folder holding its <c>model.zip</c> and <c>model-card.json</c>.</summary>
    public static string Path => Folder.Value;

    public static FlightModel Load() => FlightModel.Load(Path);
}
