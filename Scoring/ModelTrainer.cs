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

/// <summary>Fits a model on the seed's <c>train.csv</c>, evaluates it on <c>test.csv</c>, writes model and card.</summary>
public static class ModelTrainer
{
    public static ModelCard Train(string trainCsv, string testCsv, string outputDirectory, ModelAlgorithm algorithm, TimeProvider? clock = null)
    {
        var ml = new MLContext(seed: 1);
        var train = ReadLabelledCsv(trainCsv);
        var test = ReadLabelledCsv(testCsv);
        var statistics = Describe(train);
        Balance(train);

        var model = Trainer(ml, algorithm).Fit(ml.Data.LoadFromEnumerable(train));

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
            statistics);
        card.Write(Path.Combine(outputDirectory, FlightModel.CardFileName));
        return card;
    }

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

    private static ModelMetrics Evaluate(MLContext ml, ITransformer model, List<FlightRow> test)
    {
        var scored = model.Transform(ml.Data.LoadFromEnumerable(test));
        var auc = ml.BinaryClassification.Evaluate(scored, nameof(FlightRow.Label)).AreaUnderRocCurve;

        long tn = 0, fp = 0, fn = 0, tp = 0;
        var predicted = scored.GetColumn<bool>("PredictedLabel").ToArray();
        for (var i = 0; i < test.Count; i++)
        {
            switch (test[i].Label, predicted[i])
            {
                case (false, false): tn++; break;
                case (false, true): fp++; break;
                case (true, false): fn++; break;
                case (true, true): tp++; break;
            }
        }

        var precision = tp / (double)(tp + fp);
        var recall = tp / (double)(tp + fn);
        return new ModelMetrics(
            Accuracy: Math.Round((tp + tn) / (double)test.Count, 4),
            Precision: Math.Round(precision, 4),
            Recall: Math.Round(recall, 4),
            F1: Math.Round(2 * precision * recall / (precision + recall), 4),
            RocAuc: Math.Round(auc, 4),
            ConfusionMatrix: [[tn, fp], [fn, tp]],
            RocCurve: RocCurve([.. test.Select(r => r.Label)], scored.GetColumn<float>("Probability").ToArray()));
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

    /// <summary>Delay rates in the training data, overall, by airline and by month (the one-hot columns say which).</summary>
    internal static TrainingStatistics Describe(List<FlightRow> rows)
    {
        var airlines = new (int Flights, int Delayed)[FlightSchema.Airlines.Count];
        var months = new (int Flights, int Delayed)[12];
        foreach (var row in rows)
        {
            var delayed = row.Label ? 1 : 0;
            var airline = Array.IndexOf(row.Features, 1f, 0, FlightSchema.Airlines.Count);
            if (airline >= 0) airlines[airline] = (airlines[airline].Flights + 1, airlines[airline].Delayed + delayed);
            var month = Array.IndexOf(row.Features, 1f, FlightSchema.MonthOffset, 12) - FlightSchema.MonthOffset;
            if (month >= 0) months[month] = (months[month].Flights + 1, months[month].Delayed + delayed);
        }

        static double Rate(int delayed, int flights) => flights == 0 ? 0 : Math.Round(delayed / (double)flights, 4);
        var totalDelayed = rows.Count(r => r.Label);
        return new TrainingStatistics(
            rows.Count,
            totalDelayed,
            Rate(totalDelayed, rows.Count),
            [.. airlines.Select((a, i) => new AirlineDelayRate(FlightSchema.Airlines[i], a.Flights, a.Delayed, Rate(a.Delayed, a.Flights)))],
            [.. months.Select((m, i) => new MonthDelayRate(i + 1, m.Flights, m.Delayed, Rate(m.Delayed, m.Flights)))]);
    }
}
