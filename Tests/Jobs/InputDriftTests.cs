using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Input drift in the embedded default: a job skewed on purpose (two airlines, one month) and the population stability
/// index the drift endpoint gives each field, against an independent computation from the card's training counts.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class InputDriftTests : IAsyncLifetime
{
    private readonly ApiFactory _factory = new ApiFactory().With("Jobs:ChunkSize", "1000");
    private readonly ModelCard _card = FlightModel.Load(TestFiles.ShippedModel).Card;
    private HttpClient _api = null!;

    public Task InitializeAsync()
    {
        _api = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_skewed_job_gives_each_fields_psi_as_computed_independently_from_the_training_counts()
    {
        // 2,400 Sky Airline national and 600 Grupo LATAM international flights, all in December, in three chunks.
        (string Airline, string FlightType, int Month)[] flights =
            [.. Enumerable.Repeat(("Sky Airline", "N", 12), 2_400), .. Enumerable.Repeat(("Grupo LATAM", "I", 12), 600)];
        var job = await _api.SubmitAsync(JobApi.Csv(flights));
        await _api.WaitForStatusAsync(job, "succeeded");

        var drift = await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/drift?hours=1");
        Assert.Equal(3_000, drift.GetProperty("flights").GetInt64());
        Assert.False(drift.GetProperty("truncated").GetBoolean());
        var fields = drift.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("field").GetString()!);
        Assert.Equal(["airline", "flight_type", "month"], fields.Keys);

        // Independently: training shares straight from the card's counts, actual shares from the known input.
        var t = _card.Training!;
        var expected = new Dictionary<string, (Dictionary<string, double> Training, Dictionary<string, double> Actual)>
        {
            ["airline"] = (t.ByAirline.ToDictionary(a => a.Airline, a => a.Flights / (double)t.Flights),
                new() { ["Sky Airline"] = 0.8, ["Grupo LATAM"] = 0.2 }),
            ["flight_type"] = (t.ByAirlineType!.GroupBy(x => x.FlightType).ToDictionary(g => g.Key, g => g.Sum(x => x.Flights) / (double)t.Flights),
                new() { ["N"] = 0.8, ["I"] = 0.2 }),
            ["month"] = (t.ByMonth.ToDictionary(m => m.Month.ToString(), m => m.Flights / (double)t.Flights),
                new() { ["12"] = 1.0 }),
        };
        foreach (var (name, (training, actual)) in expected)
        {
            var psi = training.Sum(e =>
            {
                double a = Math.Max(actual.GetValueOrDefault(e.Key), 1e-4), b = Math.Max(e.Value, 1e-4);
                return (a - b) * Math.Log(a / b);
            });
            var field = fields[name];
            Assert.Equal(3_000, field.GetProperty("flights").GetInt64());
            Assert.Equal(psi, field.GetProperty("psi").GetDouble(), 9);
            Assert.Equal("significant", field.GetProperty("level").GetString());
            var values = field.GetProperty("values").EnumerateArray().ToDictionary(v => v.GetProperty("value").GetString()!);
            Assert.Equal(training.Count, values.Count);
            foreach (var (value, share) in training)
            {
                Assert.Equal(share, values[value].GetProperty("training").GetDouble(), 12);
                Assert.Equal(actual.GetValueOrDefault(value), values[value].GetProperty("actual").GetDouble(), 12);
                Assert.Equal((long)Math.Round(actual.GetValueOrDefault(value) * 3_000), values[value].GetProperty("flights").GetInt64());
            }
        }
    }

    [Fact]
    public async Task Without_rows_the_index_is_null_and_a_bad_window_or_an_unknown_version_is_refused()
    {
        var drift = await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_card.Version}/drift");
        Assert.Equal(0, drift.GetProperty("flights").GetInt64());
        Assert.All(drift.GetProperty("fields").EnumerateArray(), f => Assert.Equal(JsonValueKind.Null, f.GetProperty("psi").ValueKind));

        await Problem.ReadAsync(await _api.GetAsync($"/v1/models/{_card.Version}/drift?hours=0"), HttpStatusCode.BadRequest);
        await Problem.ReadAsync(await _api.GetAsync($"/v1/models/{_card.Version}/drift?hours=721"), HttpStatusCode.BadRequest);
        await Problem.ReadAsync(await _api.GetAsync("/v1/models/m-000000000000/drift"), HttpStatusCode.NotFound);
    }
}
