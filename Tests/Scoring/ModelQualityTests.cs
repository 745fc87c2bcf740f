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
    public void Probabilities_are_calibrated_on_the_test_set()
    {
        CalibrationBounds.AssertCalibrated(Predictions);
    }

    [Fact]
    public void The_card_reports_the_calibration_the_model_has()
    {
        var rows = TestFiles.TestRows;
        var calibration = Model.Card.Calibration!;
        var labels = rows.Select(r => r.Delayed).ToArray();
        var probabilities = Predictions.Select(p => p.Probability).ToArray();

        Assert.Equal(Math.Round(probabilities.Average(p => (double)p), 4), calibration.MeanProbability, 4);
        Assert.Equal(Math.Round(labels.Count(l => l) / (double)labels.Length, 4), calibration.ObservedRate, 4);
        Assert.Equal(labels.Select((l, i) => Math.Pow(probabilities[i] - (l ? 1 : 0), 2)).Average(), calibration.Brier, 4);
        Assert.True(calibration.Brier < calibration.UncalibratedBrier, $"Brier {calibration.Brier} is not below the uncalibrated {calibration.UncalibratedBrier}");
        Assert.Equal(rows.Count, calibration.Reliability.Sum(b => b.Flights));
        // The decision is unchanged: every flight flagged delayed has a probability at or above the threshold the card gives.
        Assert.All(Predictions.Where(p => p.Delayed), p => Assert.True(p.Probability >= calibration.DecisionThreshold - 1e-6));
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

/// <summary>The calibration bar: the mean probability within 0.01 of the delay rate, every band of 0.1 with 500 flights or more within 0.05.</summary>
internal static class CalibrationBounds
{
    public static void AssertCalibrated(IReadOnlyList<Prediction> predictions)
    {
        var rows = TestFiles.TestRows;
        var observed = rows.Count(r => r.Delayed) / (double)rows.Count;
        var mean = predictions.Average(p => (double)p.Probability);
        Assert.True(Math.Abs(mean - observed) <= 0.01, $"mean probability {mean:F4}, observed delay rate {observed:F4}");

        var bands = Enumerable.Range(0, rows.Count).GroupBy(i => Math.Min((int)(predictions[i].Probability * 10), 9)).Where(b => b.Count() >= 500).ToList();
        Assert.NotEmpty(bands);
        foreach (var band in bands)
        {
            var predicted = band.Average(i => (double)predictions[i].Probability);
            var rate = band.Count(i => rows[i].Delayed) / (double)band.Count();
            Assert.True(Math.Abs(predicted - rate) <= 0.05, $"band {band.Key / 10.0:F1}-{(band.Key + 1) / 10.0:F1}: {band.Count()} flights, predicted {predicted:F4}, observed {rate:F4}");
        }
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
