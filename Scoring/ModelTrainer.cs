using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.FastTree;

namespace FlightDelay.Scoring;

public enum ModelAlgorithm
{
    /// <summary>The seed's model: class-balanced L2 logistic regression (C = 1).</summary>
    LogisticRegression,

    /// <summary>Gradient-boosted trees (FastTree), same class balancing.</summary>
    FastTree,
}

/// <summary>
/// Fits a model on the seed's <c>train.csv</c>, calibrates it, evaluates it on <c>test.csv</c>, writes model and card.
/// The classifier is trained with balanced class weights, as the seed's was: its decision (<c>delayed</c>, score &gt; 0)
/// is the seed's recall-oriented one, but its own probabilities run about 2.5 times the real delay rate. So a
/// calibrator maps its score to the probability of a delay as observed: fitted on out-of-fold scores of the training
/// data (each fold scored by a model that did not see it, as scikit-learn's CalibratedClassifierCV does), Platt or
/// isotonic, whichever predicts held-out folds better (Brier score). The calibrator is the last step of the saved
/// model, so every route serves the same calibrated probability; the decision is unchanged.
/// </summary>
public static class ModelTrainer
{
    private const int CalibrationFolds = 5;

    public static ModelCard Train(string trainCsv, string testCsv, string outputDirectory, ModelAlgorithm algorithm, TimeProvider? clock = null)
    {
        var ml = new MLContext(seed: 1);
        var train = ReadLabelledCsv(trainCsv);
        var test = ReadLabelledCsv(testCsv);
        var statistics = Describe(train);
        Balance(train);

        var classifier = Trainer(ml, algorithm).Fit(ml.Data.LoadFromEnumerable(train));
        var (calibrator, method, heldOutBrier) = Calibrate(ml, algorithm, train);
        var model = new TransformerChain<ITransformer>(classifier, calibrator);

        Directory.CreateDirectory(outputDirectory);
        var modelPath = Path.Combine(outputDirectory, FlightModel.ModelFileName);
        ml.Model.Save(model, ml.Data.LoadFromEnumerable(train).Schema, modelPath);

        var card = new ModelCard(
            FlightModel.VersionOf(File.ReadAllBytes(modelPath)),
            algorithm.ToString(),
            (clock ?? TimeProvider.System).GetUtcNow(),
            train.Count,
            test.Count,
            Evaluate(ml, model, test),
            statistics,
            Calibration(ml, classifier, model, calibrator, method, heldOutBrier, test));
        card.Write(Path.Combine(outputDirectory, FlightModel.CardFileName));
        return card;
    }

    /// <summary>A row's out-of-fold score and outcome, for fitting a calibrator.</summary>
    private sealed class ScoredRow
    {
        public bool Label { get; set; }
        public float Score { get; set; }
    }

    /// <summary>
    /// Scores every training row with a model fitted on the other folds, fits Platt and isotonic calibrators on four
    /// fifths of those scores and keeps the one with the lower Brier score on the last fifth, refitted on all of them.
    /// </summary>
    private static (ITransformer Calibrator, string Method, double HeldOutBrier) Calibrate(MLContext ml, ModelAlgorithm algorithm, List<FlightRow> train)
    {
        var scored = new List<ScoredRow>(train.Count);
        for (var fold = 0; fold < CalibrationFolds; fold++)
        {
            var fit = Trainer(ml, algorithm).Fit(ml.Data.LoadFromEnumerable(train.Where((_, i) => i % CalibrationFolds != fold)));
            var held = train.Where((_, i) => i % CalibrationFolds == fold).ToList();
            var scores = fit.Transform(ml.Data.LoadFromEnumerable(held)).GetColumn<float>("Score").ToArray();
            scored.AddRange(held.Select((row, i) => new ScoredRow { Label = row.Label, Score = scores[i] }));
        }

        IEstimator<ITransformer>[] candidates =
        [
            ml.BinaryClassification.Calibrators.Platt(nameof(ScoredRow.Label), nameof(ScoredRow.Score)),
            ml.BinaryClassification.Calibrators.Isotonic(nameof(ScoredRow.Label), nameof(ScoredRow.Score)),
        ];
        string[] names = ["Platt", "Isotonic"];
        var fitOn = ml.Data.LoadFromEnumerable(scored.Where((_, i) => i % 5 != 4));
        var checkOn = scored.Where((_, i) => i % 5 == 4).ToList();
        var briers = candidates.Select(c =>
        {
            var probabilities = c.Fit(fitOn).Transform(ml.Data.LoadFromEnumerable(checkOn)).GetColumn<float>("Probability").ToArray();
            return Brier([.. checkOn.Select(r => r.Label)], probabilities);
        }).ToArray();
        var best = Array.IndexOf(briers, briers.Min());
        return (candidates[best].Fit(ml.Data.LoadFromEnumerable(scored)), names[best], Math.Round(briers[best], 5));
    }

    /// <summary>How well the served probabilities match what happened on the test set, with the uncalibrated figures beside them.</summary>
    private static CalibrationReport Calibration(MLContext ml, ITransformer classifier, TransformerChain<ITransformer> model, ITransformer calibrator, string method,
        double heldOutBrier, List<FlightRow> test)
    {
        var data = ml.Data.LoadFromEnumerable(test);
        var labels = test.Select(r => r.Label).ToArray();
        var calibrated = model.Transform(data).GetColumn<float>("Probability").ToArray();
        var raw = classifier.Transform(data).GetColumn<float>("Probability").ToArray();

        // The probability at which the decision flips: the calibrated value of a score of 0.
        var threshold = calibrator.Transform(ml.Data.LoadFromEnumerable(new[] { new ScoredRow { Score = 0 } })).GetColumn<float>("Probability").Single();
        var bands = Enumerable.Range(0, 10).Select(b =>
        {
            var members = Enumerable.Range(0, test.Count).Where(i => Math.Min((int)(calibrated[i] * 10), 9) == b).ToArray();
            return new ReliabilityBand(b / 10.0, (b + 1) / 10.0, members.Length,
                members.Length == 0 ? 0 : Math.Round(members.Average(i => (double)calibrated[i]), 4),
                members.Length == 0 ? 0 : Math.Round(members.Count(i => labels[i]) / (double)members.Length, 4));
        }).ToList();
        return new CalibrationReport(
            method,
            Math.Round(threshold, 4),
            Math.Round(Brier(labels, calibrated), 5),
            Math.Round(ExpectedCalibrationError(labels, calibrated), 4),
            Math.Round(Brier(labels, raw), 5),
            Math.Round(ExpectedCalibrationError(labels, raw), 4),
            heldOutBrier,
            Math.Round(calibrated.Average(p => (double)p), 4),
            Math.Round(labels.Count(l => l) / (double)labels.Length, 4),
            bands);
    }

    /// <summary>Mean squared difference between the probability and the outcome (0 or 1): lower is better.</summary>
    internal static double Brier(bool[] labels, float[] probabilities) =>
        labels.Select((label, i) => Math.Pow(probabilities[i] - (label ? 1 : 0), 2)).Average();

    /// <summary>Expected calibration error over ten equal-width bands: the flight-weighted gap between mean probability and observed rate.</summary>
    internal static double ExpectedCalibrationError(bool[] labels, float[] probabilities) =>
        Enumerable.Range(0, labels.Length).GroupBy(i => Math.Min((int)(probabilities[i] * 10), 9))
            .Sum(g => g.Count() / (double)labels.Length * Math.Abs(g.Average(i => (double)probabilities[i]) - g.Count(i => labels[i]) / (double)g.Count()));

    /// <summary>Reads the seed's CSV layout: no header, the label (1 = delayed), then 37 features.</summary>
    internal static List<FlightRow> ReadLabelledCsv(string path)
    {
        var rows = new List<FlightRow>();
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            var fields = line.Split(',');
            if (fields.Length != FlightSchema.FeatureCount + 1)
                throw new InvalidDataException($"{path}:{lineNumber}: expected {FlightSchema.FeatureCount + 1} columns, found {fields.Length}.");
            var row = new FlightRow { Label = fields[0] == "1" };
            for (var i = 0; i < FlightSchema.FeatureCount; i++)
                row.Features[i] = float.Parse(fields[i + 1], CultureInfo.InvariantCulture);
            rows.Add(row);
        }
        return rows;
    }

    private static void Balance(List<FlightRow> rows)
    {
        var positives = rows.Count(r => r.Label);
        var positiveWeight = rows.Count / (2f * positives);
        var negativeWeight = rows.Count / (2f * (rows.Count - positives));
        foreach (var row in rows)
            row.Weight = row.Label ? positiveWeight : negativeWeight;
    }

    private static IEstimator<ITransformer> Trainer(MLContext ml, ModelAlgorithm algorithm) => algorithm switch
    {
        ModelAlgorithm.LogisticRegression => ml.BinaryClassification.Trainers.LbfgsLogisticRegression(
            new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                LabelColumnName = nameof(FlightRow.Label),
                FeatureColumnName = nameof(FlightRow.Features),
                ExampleWeightColumnName = nameof(FlightRow.Weight),
                L1Regularization = 0,
                L2Regularization = 1,
            }),
        ModelAlgorithm.FastTree => ml.BinaryClassification.Trainers.FastTree(
            new FastTreeBinaryTrainer.Options
            {
                LabelColumnName = nameof(FlightRow.Label),
                FeatureColumnName = nameof(FlightRow.Features),
                ExampleWeightColumnName = nameof(FlightRow.Weight),
                NumberOfTrees = 300,
                NumberOfLeaves = 31,
                LearningRate = 0.05,
                NumberOfThreads = 1,
            }),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, null),
    };

    private static ModelMetrics Evaluate(MLContext ml, TransformerChain<ITransformer> model, List<FlightRow> test)
    {
        var scored = model.Transform(ml.Data.LoadFromEnumerable(test));
        // The AUC of the probabilities served (an isotonic calibrator's ties can cost a little of the score's).
        var auc = ml.BinaryClassification.Evaluate(scored, nameof(FlightRow.Label), scoreColumnName: "Probability").AreaUnderRocCurve;

        var labels = test.Select(r => r.Label).ToArray();
        var figures = BinaryQuality.Evaluate(labels, scored.GetColumn<bool>("PredictedLabel").ToArray(), scored.GetColumn<float>("Probability").ToArray());
        return new ModelMetrics(
            Accuracy: Math.Round(figures.Accuracy ?? 0, 4),
            Precision: Math.Round(figures.Precision ?? 0, 4),
            Recall: Math.Round(figures.Recall ?? 0, 4),
            F1: Math.Round(figures.F1 ?? 0, 4),
            RocAuc: Math.Round(auc, 4),
            ConfusionMatrix: figures.ConfusionMatrix,
            RocCurve: RocCurve(labels, scored.GetColumn<float>("Probability").ToArray()));
    }

    /// <summary>
    /// The ROC curve: one point per distinct probability, from the highest down (the first point, threshold 1, is (0, 0)),
    /// thinned so that consecutive points are at least 0.01 apart on one axis: enough to draw, small enough for a card.
    /// </summary>
    internal static List<RocPoint> RocCurve(bool[] labels, float[] probabilities)
    {
        var order = Enumerable.Range(0, labels.Length).OrderByDescending(i => probabilities[i]).ToArray();
        double positives = labels.Count(l => l), negatives = labels.Length - positives;
        var curve = new List<RocPoint> { new(1, 0, 0) };
        long tp = 0, fp = 0;
        for (var k = 0; k < order.Length; k++)
        {
            if (labels[order[k]]) tp++; else fp++;
            // Rows with the same probability are one threshold: emit a point only after the last of them.
            if (k + 1 < order.Length && probabilities[order[k + 1]] == probabilities[order[k]]) continue;
            var point = new RocPoint(Math.Round(probabilities[order[k]], 4), Math.Round(fp / negatives, 4), Math.Round(tp / positives, 4));
            var last = curve[^1];
            if (k == order.Length - 1 || Math.Max(point.FalsePositiveRate - last.FalsePositiveRate, point.TruePositiveRate - last.TruePositiveRate) >= 0.01)
                curve.Add(point);
        }
        return curve;
    }

    /// <summary>Delay rates in the training data, overall, by airline, by month and by airline and flight type (the one-hot columns say which).</summary>
    internal static TrainingStatistics Describe(List<FlightRow> rows)
    {
        var airlines = new (int Flights, int Delayed)[FlightSchema.Airlines.Count];
        var months = new (int Flights, int Delayed)[12];
        var types = new (int Flights, int Delayed)[FlightSchema.Airlines.Count, FlightSchema.FlightTypes.Count];
        foreach (var row in rows)
        {
            var delayed = row.Label ? 1 : 0;
            var airline = Array.IndexOf(row.Features, 1f, 0, FlightSchema.Airlines.Count);
            if (airline >= 0) airlines[airline] = (airlines[airline].Flights + 1, airlines[airline].Delayed + delayed);
            var month = Array.IndexOf(row.Features, 1f, FlightSchema.MonthOffset, 12) - FlightSchema.MonthOffset;
            if (month >= 0) months[month] = (months[month].Flights + 1, months[month].Delayed + delayed);
            var type = Array.IndexOf(row.Features, 1f, FlightSchema.FlightTypeOffset, FlightSchema.FlightTypes.Count) - FlightSchema.FlightTypeOffset;
            if (airline >= 0 && type >= 0) types[airline, type] = (types[airline, type].Flights + 1, types[airline, type].Delayed + delayed);
        }

        static double Rate(int delayed, int flights) => flights == 0 ? 0 : Math.Round(delayed / (double)flights, 4);
        var totalDelayed = rows.Count(r => r.Label);
        return new TrainingStatistics(
            rows.Count,
            totalDelayed,
            Rate(totalDelayed, rows.Count),
            [.. airlines.Select((a, i) => new AirlineDelayRate(FlightSchema.Airlines[i], a.Flights, a.Delayed, Rate(a.Delayed, a.Flights)))],
            [.. months.Select((m, i) => new MonthDelayRate(i + 1, m.Flights, m.Delayed, Rate(m.Delayed, m.Flights)))],
            [.. Enumerable.Range(0, FlightSchema.Airlines.Count).SelectMany(a => Enumerable.Range(0, FlightSchema.FlightTypes.Count).Select(t =>
                new AirlineTypeDelayRate(FlightSchema.Airlines[a], FlightSchema.FlightTypes[t], types[a, t].Flights, types[a, t].Delayed, Rate(types[a, t].Delayed, types[a, t].Flights))))]);
    }
}
