using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Scoring;

public class ModelTrainerTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("flightdelay-model-").FullName;

    [Theory]
    [InlineData(ModelAlgorithm.LogisticRegression, 0.655)]
    [InlineData(ModelAlgorithm.FastTree, 0.665)]
    public void Training_writes_a_loadable_model_and_a_card_with_its_test_metrics(ModelAlgorithm algorithm, double minimumAuc)
    {
        var card = ModelTrainer.Train(Path.Combine(TestFiles.Datasets, "train.csv"), Path.Combine(TestFiles.Datasets, "test.csv"), _output, algorithm);

        Assert.Equal(45_698, card.TrainRows);
        Assert.Equal(22_508, card.TestRows);
        Assert.Equal(algorithm.ToString(), card.Algorithm);
        Assert.InRange(card.Metrics.RocAuc, minimumAuc, 1);
        Assert.InRange(card.Metrics.Recall, 0.63, 1);
        Assert.Equal(22_508, card.Metrics.ConfusionMatrix.SelectMany(r => r).Sum());

        var model = FlightModel.Load(_output);
        Assert.Equal(card.Version, model.Version);
        Assert.Equal(algorithm == ModelAlgorithm.LogisticRegression, model.IsLinear);
        var predictions = ModelQualityTests.ScoreTestSet(model);
        var auc = Metrics.RocAuc([.. TestFiles.TestRows.Select(r => r.Delayed)], [.. predictions.Select(p => (double)p.Probability)]);
        Assert.Equal(card.Metrics.RocAuc, auc, 3);
        CalibrationBounds.AssertCalibrated(predictions);
        Assert.Contains(card.Calibration!.Method, new[] { "Platt", "Isotonic" });
    }

    [Fact]
    public void A_card_that_does_not_match_its_model_is_refused()
    {
        ModelTrainer.Train(Path.Combine(TestFiles.Datasets, "train.csv"), Path.Combine(TestFiles.Datasets, "test.csv"), _output, ModelAlgorithm.LogisticRegression);
        File.AppendAllText(Path.Combine(_output, FlightModel.ModelFileName), "tampered");

        Assert.Throws<InvalidDataException>(() => FlightModel.Load(_output));
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
