using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Scoring;

/// <summary>The shipped model against the quality bar and the seed's own predictions, on test.csv.</summary>
public class ModelQualityTests
{
    private static readonly FlightModel Model = FlightModel.Load(TestFiles.ShippedModel);
    private static readonly Prediction[] Predictions = ScoreTestSet(Model);

    [Fact]
    public void Recall_and_auc_on_the_test_set_reach_the_bar()
    {
        var rows = TestFiles.TestRows;
        var tp = rows.Where((r, i) => r.Delayed && Predictions[i].Delayed).Count();
        var recall = tp / (double)rows.Count(r => r.Delayed);

        Assert.InRange(recall, 0.63, 1);
        Assert.InRange(Metrics.RocAuc(rows.Select(r => r.Delayed).ToArray(), Predictions.Select(p => (double)p.Probability).ToArray()), 0.655, 1);
    }

    [Fact]
    public void Predictions_agree_with_the_seed_model_on_nearly_every_row()
    {
        var rows = TestFiles.TestRows;
        var agree = rows.Where((r, i) => SeedModel.Instance.Predict(r.Features) == Predictions[i].Delayed).Count();

        Assert.True(agree >= rows.Count - 20, $"agrees with the seed on {agree} of {rows.Count} rows");
    }

    [Fact]
    public void Card_metrics_are_the_ones_the_model_produces()
    {
        var rows = TestFiles.TestRows;
        long tn = 0, fp = 0, fn = 0, tp = 0;
        for (var i = 0; i < rows.Count; i++)
        {
            _ = (rows[i].Delayed, Predictions[i].Delayed) switch
            {
                (false, false) => tn++, (false, true) => fp++, (true, false) => fn++, (true, true) => tp++,
            };
        }
        Assert.Equal([[tn, fp], [fn, tp]], Model.Card.Metrics.ConfusionMatrix);
        Assert.Equal(Model.Card.Version, FlightModel.VersionOf(File.ReadAllBytes(Path.Combine(TestFiles.ShippedModel, FlightModel.ModelFileName))));
    }

    [Fact]
    public void Batch_and_single_row_paths_give_the_same_answers()
    {
        var rows = TestFiles.TestRows.Take(500).ToArray();
        for (var i = 0; i < rows.Length; i++)
        {
            var single = Model.Predict(rows[i].Features);
            Assert.Equal(single.Delayed, Predictions[i].Delayed);
            Assert.Equal(single.Probability, Predictions[i].Probability, 6);
        }
    }

    [Fact]
    public void The_linear_fast_path_gives_ml_nets_own_answers()
    {
        Assert.True(Model.IsLinear);
        foreach (var (_, features) in TestFiles.TestRows.Take(3000))
        {
            var fast = Model.Predict(features);
            var engine = Model.PredictWithEngine(features);
            Assert.Equal(engine.Delayed, fast.Delayed);
            Assert.Equal(engine.Probability, fast.Probability, 5);
        }
        var odd = Enumerable.Range(0, 37).Select(i => (i % 5) - 1.5f).ToArray();
        Assert.Equal(Model.PredictWithEngine(odd).Probability, Model.Predict(odd).Probability, 5);
    }

    [Fact]
    public async Task Concurrent_single_row_predictions_match_serial_ones()
    {
        var rows = TestFiles.TestRows.Take(4000).Select(r => r.Features).ToArray();
        var serial = rows.Select(r => Model.Predict(r)).ToArray();

        var parallel = new Prediction[rows.Length];
        await Parallel.ForAsync(0, rows.Length, new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
        {
            parallel[i] = Model.Predict(rows[i]);
            return ValueTask.CompletedTask;
        });

        Assert.Equal(serial, parallel);
    }

    internal static Prediction[] ScoreTestSet(FlightModel model)
    {
        var rows = TestFiles.TestRows;
        var features = rows.SelectMany(r => r.Features).ToArray();
        var predictions = new Prediction[rows.Count];
        model.PredictBatch(features, predictions);
        return predictions;
    }
}

internal static class Metrics
{
    /// <summary>ROC AUC as the Mann-Whitney statistic, ties counted half.</summary>
    public static double RocAuc(bool[] labels, double[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ToArray();
        var ranks = new double[scores.Length];
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            for (var k = i; k <= j; k++) ranks[order[k]] = (i + j) / 2.0 + 1;
            i = j + 1;
        }
        double positives = labels.Count(l => l), negatives = labels.Length - positives;
        var rankSum = labels.Select((l, i) => l ? ranks[i] : 0).Sum();
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
