using FlightDelay.Persistence;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Worker;

/// <summary>
/// <c>dotnet run --project Worker -- train [--algorithm LogisticRegression|FastTree] [--data datasets] [--out Scoring/Model]</c>:
/// fits the model on train.csv, evaluates it on test.csv, writes model.zip and model-card.json, and registers it in the
/// model registry as a candidate when a database is configured (<c>ConnectionStrings:Postgres</c> or <c>:Sqlite</c>,
/// as the services read them). It never promotes: <c>POST /v1/models/{version}/promote</c> does.
/// </summary>
internal static class TrainCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var algorithm = ModelAlgorithm.LogisticRegression;
        var root = RepositoryRoot();
        var data = Path.Combine(root, "datasets");
        var output = Path.Combine(root, "Scoring", "Model");
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--algorithm" when Enum.TryParse(value, ignoreCase: true, out algorithm): i++; break;
                case "--data" when value is not null: data = value; i++; break;
                case "--out" when value is not null: output = value; i++; break;
                default:
                    Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}'.");
                    Console.Error.WriteLine("usage: train [--algorithm LogisticRegression|FastTree] [--data DIR] [--out DIR]");
                    return 2;
            }
        }

        var card = ModelTrainer.Train(Path.Combine(data, "train.csv"), Path.Combine(data, "test.csv"), output, algorithm);
        var m = card.Metrics;
        Console.WriteLine($"{card.Algorithm} {card.Version}: trained on {card.TrainRows} rows, tested on {card.TestRows}");
        Console.WriteLine($"accuracy {m.Accuracy}  precision {m.Precision}  recall {m.Recall}  F1 {m.F1}  ROC AUC {m.RocAuc}");
        Console.WriteLine($"confusion [[tn, fp], [fn, tp]] = [[{m.ConfusionMatrix[0][0]}, {m.ConfusionMatrix[0][1]}], [{m.ConfusionMatrix[1][0]}, {m.ConfusionMatrix[1][1]}]]");
        Console.WriteLine($"wrote {Path.GetFullPath(output)}");
        await RegisterAsync(FlightModel.Load(output));
        return 0;
    }

    /// <summary>Adds the trained model to the configured database's registry, as a candidate.</summary>
    private static async Task RegisterAsync(FlightModel model)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .Build();
        var postgres = configuration.GetConnectionString("Postgres");
        var sqlite = configuration.GetConnectionString("Sqlite");
        if (string.IsNullOrWhiteSpace(postgres) && string.IsNullOrWhiteSpace(sqlite))
        {
            Console.WriteLine("not registered: no ConnectionStrings__Postgres or ConnectionStrings__Sqlite is set (serve the folder, or set one to add it to a registry)");
            return;
        }
        var database = string.IsNullOrWhiteSpace(postgres) ? JobsDatabase.Sqlite(sqlite) : JobsDatabase.Postgres(postgres);
        var options = new DbContextOptionsBuilder<JobsDbContext>();
        database.Configure(options);
        await using var db = new JobsDbContext(options.Options);
        // SQLite's schema is made on first use, as the API makes it; PostgreSQL's comes from `migrate`.
        if (database.Provider == DatabaseProvider.Sqlite) await db.PrepareAsync();
        var added = await ModelRegistry.RegisterAsync(db, model, "train", DateTime.UtcNow, CancellationToken.None);
        Console.WriteLine(added
            ? $"registered {model.Version} as a candidate in {database.Description}; promote it with POST /v1/models/{model.Version}/promote"
            : $"{model.Version} was already registered in {database.Description}");
    }

    // `dotnet run` starts in the project folder; the defaults are relative to the repository root.
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlightDelay.sln")))
                return dir.FullName;
        }
        return Environment.CurrentDirectory;
    }
}
