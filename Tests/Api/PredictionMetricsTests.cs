using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// Reads process-wide counters: OpenTelemetry's meter listeners see every host's meters of the same name in this
/// process, so these tests run in a collection of their own, with nothing else in parallel.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class PredictionMetricsTests
{
    [Fact]
    public async Task Predictions_are_counted_by_month_and_label_and_a_row_without_a_month_feature_without_a_month()
    {
        // Its own API, so no other test's predictions are in its counters.
        await using var api = new ApiFactory();
        var client = api.CreateClient();
        var flights = new object[]
        {
            new { airline = "Grupo LATAM", flightType = "N", month = 3 },
            new { airline = "Sky Airline", flightType = "N", month = 3 },
            new { airline = "Iberia", flightType = "I", month = 3 },
            new { airline = "Grupo LATAM", flightType = "I", month = 7 },
            new { features = TestFiles.Encode("Copa Air", "I", 7) },
            new { features = new float[37] },
        };

        var response = await client.PostAsJsonAsync("/v1/predictions", new { flights });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delayed = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray()
            .Select(p => p.GetProperty("delayed").GetBoolean()).ToArray();
        var metrics = await PrometheusText.WaitForAsync(client, "flightdelay_predictions_total", ("path", "v1"));
        double Count(string month, bool isDelayed) => PrometheusText.Sum(metrics, "flightdelay_predictions_total",
            ("path", "v1"), ("month", month), ("label", isDelayed ? "delayed" : "on_time"));
        foreach (var label in new[] { true, false })
        {
            Assert.Equal(delayed[..3].Count(d => d == label), Count("3", label));
            Assert.Equal(delayed[3..5].Count(d => d == label), Count("7", label));
        }
        Assert.Equal(5, PrometheusText.Sum(metrics, "flightdelay_predictions_total", ("path", "v1"), ("month", "3"))
            + PrometheusText.Sum(metrics, "flightdelay_predictions_total", ("path", "v1"), ("month", "7")));
        // The all-zero row is counted, without a month attribute (never month="").
        Assert.Equal(6, PrometheusText.Sum(metrics, "flightdelay_predictions_total", ("path", "v1")));
        Assert.DoesNotContain("month=\"\"", metrics);
        Assert.DoesNotContain("month=\"0\"", metrics);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "process-wide metrics";
}
