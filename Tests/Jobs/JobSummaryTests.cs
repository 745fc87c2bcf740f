using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// <c>GET /v1/jobs/{id}/summary</c>, the figures behind the page's job charts, on SQLite (embedded) and PostgreSQL:
/// it must agree with the job's own results row by row, and count raw vectors that name no single airline as "other".
/// </summary>
public sealed class JobSummaryTests
{
    [Fact]
    public async Task The_summary_bins_the_probabilities_and_shares_delays_by_airline_on_sqlite()
    {
        await using var factory = new ApiFactory().With("Jobs:ChunkSize", "500");
        await AssertSummaryMatchesResultsAsync(factory.CreateClient());
    }

    [Fact]
    public async Task The_summary_bins_the_probabilities_and_shares_delays_by_airline_on_postgres()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 1);
        await AssertSummaryMatchesResultsAsync(pipeline.Api);
    }

    [Fact]
    public async Task An_unknown_job_has_no_summary()
    {
        await using var factory = new ApiFactory();
        var client = factory.CreateClient();

        var problem = await Problem.ReadAsync(await client.GetAsync($"/v1/jobs/{Guid.NewGuid()}/summary"), HttpStatusCode.NotFound);

        Assert.Contains("There is no job", problem.Detail);
        await Problem.ReadAsync(await client.GetAsync("/v1/jobs/not-a-job/summary"), HttpStatusCode.NotFound);
    }

    private static async Task AssertSummaryMatchesResultsAsync(HttpClient api)
    {
        // Named flights, then raw vectors: one-hot (an airline), all zeros and two airlines at once ("other").
        var flights = JobApi.Flights(1_200, seed: 21);
        var raw = new List<(string Airline, float[] Features)>
        {
            ("Iberia", TestFiles.Encode("Iberia", "I", 3)),
            ("other", new float[37]),
            ("other", [.. TestFiles.Encode("Iberia", "I", 3).Select((v, i) => i == 0 ? 1f : v)]),
            ("other", [.. TestFiles.Encode("Copa Air", "N", 8).Select((v, i) => i == 9 ? 0.5f : v)]),
        };
        var body = JsonSerializer.Serialize(new
        {
            flights = flights.Select(f => (object)new { airline = f.Airline, flightType = f.FlightType, month = f.Month })
                .Concat(raw.Select(r => new { features = r.Features })),
        });
        var response = await api.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await api.WaitForStatusAsync(id, "succeeded");

        var results = await api.AllResultsAsync(id);
        var airlines = flights.Select(f => f.Airline).Concat(raw.Select(r => r.Airline)).ToList();
        var summary = await api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/summary");

        Assert.Equal("succeeded", summary.GetProperty("status").GetString());
        Assert.Equal(airlines.Count, summary.GetProperty("totalRows").GetInt32());
        Assert.Equal(airlines.Count, summary.GetProperty("scoredRows").GetInt32());
        Assert.Equal(results.Count(r => r.GetProperty("delayed").GetBoolean()), summary.GetProperty("delayedRows").GetInt32());

        var bins = new int[10];
        foreach (var r in results) bins[Math.Min((int)(r.GetProperty("probability").GetSingle() * 10), 9)]++;
        var histogram = summary.GetProperty("histogram").EnumerateArray().ToList();
        Assert.Equal(bins, histogram.Select(b => b.GetProperty("count").GetInt32()));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i / 10.0), histogram.Select(b => b.GetProperty("from").GetDouble()));
        Assert.Equal(1.0, histogram[^1].GetProperty("to").GetDouble());

        var expected = airlines.Zip(results, (airline, r) => (airline, delayed: r.GetProperty("delayed").GetBoolean()))
            .GroupBy(x => x.airline)
            .ToDictionary(g => g.Key, g => (Rows: g.Count(), Delayed: g.Count(x => x.delayed)));
        var byAirline = summary.GetProperty("byAirline").EnumerateArray()
            .ToDictionary(a => a.GetProperty("airline").GetString()!, a => (Rows: a.GetProperty("rows").GetInt32(), Delayed: a.GetProperty("delayed").GetInt32()));
        Assert.Equal(expected.OrderBy(e => e.Key), byAirline.OrderBy(a => a.Key));
        Assert.Equal(3, byAirline["other"].Rows);
        var grupo = summary.GetProperty("byAirline").EnumerateArray().Single(a => a.GetProperty("airline").GetString() == "Grupo LATAM");
        Assert.Equal(Math.Round(expected["Grupo LATAM"].Delayed / (double)expected["Grupo LATAM"].Rows, 4), grupo.GetProperty("delayedShare").GetDouble());

        // Delays to expect: the sum of the probabilities, overall and per airline; the historical reference at the card's rates.
        var probabilities = results.Select(r => (double)r.GetProperty("probability").GetSingle()).ToList();
        Assert.Equal(probabilities.Sum(), summary.GetProperty("expectedDelayed").GetDouble(), 0.05);
        var grupoExpected = airlines.Zip(probabilities).Where(x => x.First == "Grupo LATAM").Sum(x => x.Second);
        Assert.Equal(grupoExpected, grupo.GetProperty("expectedDelayed").GetDouble(), 0.05);
        var training = ModelCard.Read(Path.Combine(TestFiles.ShippedModel, FlightModel.CardFileName)).Training!;
        var grupoRate = training.ByAirline.Single(a => a.Airline == "Grupo LATAM").DelayRate;
        Assert.Equal(grupoRate, grupo.GetProperty("historicalRate").GetDouble());
        var historical = airlines.Sum(a => training.ByAirline.SingleOrDefault(t => t.Airline == a)?.DelayRate ?? training.DelayRate);
        Assert.Equal(historical, summary.GetProperty("historicalDelayed").GetDouble(), 0.05);
    }
}
