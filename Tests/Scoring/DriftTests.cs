using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Scoring;

/// <summary>The population stability index and the training shares it compares with, against figures worked out by hand.</summary>
[Trait("Tier", "Fast")]
public sealed class DriftTests
{
    private readonly TrainingStatistics _training = FlightModel.Load(TestFiles.ShippedModel).Card.Training!;

    [Fact]
    public void Psi_is_the_sum_of_share_differences_times_their_log_ratio_and_zero_for_equal_shares()
    {
        // (0.5 - 0.25) ln 2 + (0.5 - 0.75) ln(2/3)
        Assert.Equal(0.25 * Math.Log(2) - 0.25 * Math.Log(2.0 / 3), Drift.Psi([0.5, 0.5], [0.25, 0.75]), 12);
        Assert.Equal(0, Drift.Psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]));
        Assert.Throws<ArgumentException>(() => Drift.Psi([1], [0.5, 0.5]));
    }

    [Fact]
    public void An_empty_category_on_either_side_is_floored_at_epsilon_so_the_index_stays_finite()
    {
        var expected = (1 - 0.5) * Math.Log(1 / 0.5) + (1e-4 - 0.5) * Math.Log(1e-4 / 0.5);
        Assert.Equal(expected, Drift.Psi([1, 0], [0.5, 0.5]), 12);
        Assert.Equal(expected, Drift.Psi([0.5, 0.5], [1, 0]), 12);
        Assert.True(double.IsFinite(Drift.Psi([0, 1], [1, 0])));
    }

    [Theory]
    [InlineData(0.0, "stable")]
    [InlineData(0.099, "stable")]
    [InlineData(0.1, "moderate")]
    [InlineData(0.25, "moderate")]
    [InlineData(0.2501, "significant")]
    public void Levels_follow_the_usual_rule_of_thumb(double psi, string level) => Assert.Equal(level, Drift.Level(psi));

    [Fact]
    public void Training_shares_are_the_cards_flight_counts_over_their_total_and_flight_types_are_summed_over_airlines()
    {
        var airlines = Drift.TrainingShares(_training, Drift.Airline)!;
        Assert.Equal(_training.ByAirline.Select(a => (double)a.Flights / _training.Flights), airlines);
        var months = Drift.TrainingShares(_training, Drift.Month)!;
        Assert.Equal(_training.ByMonth.OrderBy(m => m.Month).Select(m => (double)m.Flights / _training.Flights), months);
        var types = Drift.TrainingShares(_training, Drift.FlightType)!;
        Assert.Equal((double)_training.ByAirlineType!.Where(t => t.FlightType == "I").Sum(t => t.Flights) / _training.Flights, types[0], 12);
        Assert.Equal(1, types.Sum(), 12);

        Assert.Null(Drift.TrainingShares(_training with { ByAirlineType = null }, Drift.FlightType));
        Assert.Equal(["airline", "month"], Drift.Compare(new long[37], _training with { ByAirlineType = null }).Select(f => f.Field));
    }

    [Fact]
    public void Rows_are_counted_by_each_fields_value_and_compared_field_by_field()
    {
        var counts = new long[FlightSchema.FeatureCount];
        Drift.Count(TestFiles.Encode("Iberia", "I", 3), counts);
        Drift.Count(TestFiles.Encode("Iberia", "N", 4), counts);
        Drift.Count(new float[FlightSchema.FeatureCount], counts); // no value in any field: counts nothing

        Assert.Equal(2, counts[13]);
        Assert.Equal([1, 1], counts[23..25]);
        Assert.Equal([0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], counts[25..]);
        var fields = Drift.Compare(counts, _training);
        var airline = fields.Single(f => f.Field == "airline");
        Assert.Equal(2, airline.Flights);
        Assert.Equal(1, airline.Values.Single(v => v.Value == "Iberia").Actual);
        Assert.Equal(Drift.Psi([.. airline.Values.Select(v => v.Actual)], Drift.TrainingShares(_training, Drift.Airline)), airline.Psi);
        Assert.Null(Drift.Compare(new long[37], _training)[0].Psi);
    }
}
