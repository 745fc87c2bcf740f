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
    public void The_shipped_cards_training_rates_are_those_of_train_csv_by_airline_month_and_airline_and_type()
    {
        // The page's base rates and its "few training flights" caution come from the card: they must be the data's.
        var shipped = ModelCard.Read(Path.Combine(TestFiles.ShippedModel, FlightModel.CardFileName)).Training!;
        var card = ModelTrainer.Train(Path.Combine(TestFiles.Datasets, "train.csv"), Path.Combine(TestFiles.Datasets, "test.csv"), _output, ModelAlgorithm.LogisticRegression);
        var trained = card.Training!;

        Assert.Equal(trained.ByAirline, shipped.ByAirline);
        Assert.Equal(trained.ByMonth, shipped.ByMonth);
        Assert.Equal(trained.ByAirlineType, shipped.ByAirlineType);
        Assert.Equal(FlightSchema.Airlines.Count * 2, shipped.ByAirlineType!.Count);
        Assert.Equal(shipped.Flights, shipped.ByAirlineType.Sum(r => r.Flights));
        // Each airline's types add up to the airline, and some combinations never flew (the caution's case).
        Assert.All(shipped.ByAirline, a => Assert.Equal(a.Flights, shipped.ByAirlineType.Where(r => r.Airline == a.Airline).Sum(r => r.Flights)));
        Assert.Contains(shipped.ByAirlineType, r => r.Flights == 0);
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
