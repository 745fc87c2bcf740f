using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// The model-quality and input-drift series of <c>/metrics</c>: live figures from reported outcomes beside the card's,
/// the inputs of scored flights by field and value, and the champion's training shares. Process-wide meters, so in the
/// metrics collection.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class ModelQualityMetricsTests
{
    private readonly ModelCard _card = FlightModel.Load(TestFiles.ShippedModel).Card;

    [Fact]
    public async Task Live_quality_gauges_follow_reported_outcomes_and_equal_the_quality_endpoints_figures()
    {
        await using var factory = new ApiFactory().With("Model:QualityInterval", "00:00:00.200");
        var api = factory.CreateClient();
        var rows = TestFiles.TestRows.Take(3_000).ToList();
        var job = await api.SubmitAsync(string.Join('\n', rows.Select(r => string.Join(',', r.Features.Select(f => f.ToString(CultureInfo.InvariantCulture))))));
        await api.WaitForStatusAsync(job, "succeeded");
        var report = await api.PostAsync($"/v1/jobs/{job}/outcomes",
            new StringContent("row,delayed\n" + string.Join('\n', rows.Select((r, i) => $"{i + 1},{(r.Delayed ? 1 : 0)}")), Encoding.UTF8, "text/csv"));
        report.EnsureSuccessStatusCode();

        var version = ("version", _card.Version);
        var metrics = await Poll.UntilAsync(() => api.GetStringAsync("/metrics"),
            m => PrometheusText.Sum(m, "flightdelay_model_live_outcomes", version) == rows.Count, JobApi.Deadline, "the live outcomes gauge to count the report");

        var live = (await api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/quality")).GetProperty("live");
        Assert.Equal(live.GetProperty("rocAuc").GetDouble(), PrometheusText.Sum(metrics, "flightdelay_model_live_roc_auc", version), 9);
        Assert.Equal(live.GetProperty("recall").GetDouble(), PrometheusText.Sum(metrics, "flightdelay_model_live_recall", version), 9);
        Assert.Equal(live.GetProperty("precision").GetDouble(), PrometheusText.Sum(metrics, "flightdelay_model_live_precision", version), 9);
        Assert.Equal(_card.Metrics.RocAuc, PrometheusText.Sum(metrics, "flightdelay_model_test_roc_auc", version), 9);
        Assert.Equal(_card.Metrics.Recall, PrometheusText.Sum(metrics, "flightdelay_model_test_recall", version), 9);
    }

    [Fact]
    public async Task Without_outcomes_the_live_ratios_are_absent_and_the_test_figures_are_there()
    {
        await using var factory = new ApiFactory().With("Model:QualityInterval", "00:00:00.200");
        var api = factory.CreateClient();
        var metrics = await PrometheusText.WaitForAsync(api, "flightdelay_model_test_roc_auc", ("version", _card.Version));

        Assert.Equal(0, PrometheusText.Sum(metrics, "flightdelay_model_live_outcomes", ("version", _card.Version)));
        Assert.Contains("flightdelay_model_live_outcomes{", metrics);
        Assert.DoesNotContain("flightdelay_model_live_roc_auc{", metrics);
        Assert.DoesNotContain("flightdelay_model_live_recall{", metrics);
    }

    [Fact]
    public async Task Scored_inputs_are_counted_by_field_and_value_beside_the_champions_training_shares()
    {
        await using var factory = new ApiFactory();
        var api = factory.CreateClient();
        var flights = new object[]
        {
            new { airline = "Grupo LATAM", flightType = "I", month = 7 },
            new { airline = "Grupo LATAM", flightType = "N", month = 7 },
            new { airline = "Iberia", flightType = "I", month = 3 },
            new { features = new float[37] },
        };
        (await api.PostAsJsonAsync("/v1/predictions", new { flights })).EnsureSuccessStatusCode();

        var metrics = await PrometheusText.WaitForAsync(api, "flightdelay_prediction_inputs_total", ("field", "airline"));
        double Inputs(string field, string value) => PrometheusText.Sum(metrics, "flightdelay_prediction_inputs_total", ("field", field), ("value", value));
        Assert.Equal((2, 1, 2, 1, 2, 1), (Inputs("airline", "Grupo LATAM"), Inputs("airline", "Iberia"), Inputs("flight_type", "I"),
            Inputs("flight_type", "N"), Inputs("month", "7"), Inputs("month", "3")));
        // The all-zero row has no value in any field: counted by no field.
        foreach (var field in new[] { "airline", "flight_type", "month" })
            Assert.Equal(3, PrometheusText.Sum(metrics, "flightdelay_prediction_inputs_total", ("field", field)));

        var t = _card.Training!;
        double Share(string field, string value) =>
            PrometheusText.Sum(metrics, "flightdelay_model_training_share", ("version", _card.Version), ("field", field), ("value", value));
        Assert.Equal(t.ByAirline.Single(a => a.Airline == "Grupo LATAM").Flights / (double)t.Flights, Share("airline", "Grupo LATAM"), 9);
        Assert.Equal(t.ByMonth.Single(m => m.Month == 7).Flights / (double)t.Flights, Share("month", "7"), 9);
        Assert.Equal(t.ByAirlineType!.Where(x => x.FlightType == "N").Sum(x => x.Flights) / (double)t.Flights, Share("flight_type", "N"), 9);
        foreach (var field in new[] { "airline", "flight_type", "month" })
            Assert.Equal(1, PrometheusText.Sum(metrics, "flightdelay_model_training_share", ("version", _card.Version), ("field", field)), 9);
    }
}
