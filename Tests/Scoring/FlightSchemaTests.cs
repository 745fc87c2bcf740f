using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Scoring;

[Trait("Tier", "Fast")]
public class FlightSchemaTests
{
    [Theory]
    [InlineData("Aerolineas Argentinas", "I", 1, 0, 23, 25)]
    [InlineData("Grupo LATAM", "N", 7, 12, 24, 31)]
    [InlineData("United Airlines", "I", 12, 22, 23, 36)]
    [InlineData("grupo latam", "n", 7, 12, 24, 31)]
    public void Named_flight_sets_exactly_its_three_one_hot_columns(string airline, string type, int month, int a, int t, int m)
    {
        var features = TestFiles.Encode(airline, type, month);

        Assert.Equal(3, features.Count(f => f == 1));
        Assert.Equal(3, features.Sum());
        Assert.Equal(1, features[a]);
        Assert.Equal(1, features[t]);
        Assert.Equal(1, features[m]);
    }

    [Fact]
    public void Schema_names_37_features_in_the_seed_order()
    {
        Assert.Equal(37, FlightSchema.FeatureNames.Count);
        Assert.Equal("airline=Aerolineas Argentinas", FlightSchema.FeatureNames[0]);
        Assert.Equal("flightType=I", FlightSchema.FeatureNames[23]);
        Assert.Equal("month=12", FlightSchema.FeatureNames[36]);
    }

    [Fact]
    public void Every_row_of_the_seed_data_is_a_valid_one_hot_of_three_fields()
    {
        foreach (var (_, features) in TestFiles.TestRows.Take(2000))
        {
            Assert.Equal(1, features[..23].Sum());
            Assert.Equal(1, features[23..25].Sum());
            Assert.Equal(1, features[25..].Sum());
        }
    }

    [Fact]
    public void Unknown_values_are_reported_per_field_with_the_accepted_values()
    {
        var errors = FlightSchema.TryEncode("Pan Am", "X", 13, new float[37]);

        Assert.Collection(errors,
            e => { Assert.Equal("airline", e.Field); Assert.Contains("Grupo LATAM", e.Message); Assert.Contains("Pan Am", e.Message); },
            e => { Assert.Equal("flightType", e.Field); Assert.Contains("I (international)", e.Message); },
            e => { Assert.Equal("month", e.Field); Assert.Contains("1 to 12", e.Message); });
    }

    [Fact]
    public void Missing_values_are_reported_as_required()
    {
        var errors = FlightSchema.TryEncode(null, " ", null, new float[37]);

        Assert.Equal(["airline", "flightType", "month"], errors.Select(e => e.Field));
        Assert.All(errors, e => Assert.Contains("required", e.Message));
    }

    [Fact]
    public void Raw_vectors_must_be_37_finite_numbers()
    {
        Assert.Null(FlightSchema.Validate(new float[37]));
        Assert.Contains("received 36", FlightSchema.Validate(new float[36])!.Message);
        var withNaN = new float[37];
        withNaN[5] = float.NaN;
        Assert.Contains("Feature 5", FlightSchema.Validate(withNaN)!.Message);
    }
}
