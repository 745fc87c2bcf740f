using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// A challenger scores job chunks in the shadow (embedded default): answers stay the champion's, the challenger's
/// scores are stored beside them, and the comparison counts them against an independent computation.
/// </summary>
public sealed class ShadowScoringTests : IAsyncLifetime
{
    private readonly ApiFactory _factory = new ApiFactory().With("Jobs:ChunkSize", "500");
    private readonly FlightModel _shipped = FlightModel.Load(TestFiles.ShippedModel);
    private readonly FlightModel _alternative = AlternativeModel.Load();
    private HttpClient _api = null!;

    public async Task InitializeAsync()
    {
        _api = _factory.CreateClient();
        Assert.True(await _factory.Services.GetRequiredService<ModelRegistry>().RegisterAsync(_alternative, "train", CancellationToken.None));
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_challengers_shadow_scores_are_stored_beside_the_answers_and_compared_with_them()
    {
        var challenge = await _api.PostAsync($"/v1/models/{_alternative.Version}/challenge", null);
        Assert.Equal("challenger", (await challenge.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
        Assert.Equal(_alternative.Version, (await _api.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("challenger").GetString());

        var flights = JobApi.Flights(1_200, seed: 21);
        var job = await _api.SubmitAsync(JobApi.Csv(flights));
        await _api.WaitForStatusAsync(job, "succeeded");
        var results = await _api.AllResultsAsync(job);
        Assert.All(results, r => Assert.Equal(_shipped.Version, r.GetProperty("modelVersion").GetString()));

        var served = flights.Select(f => _shipped.Predict(TestFiles.Encode(f.Airline, f.FlightType, f.Month))).ToArray();
        var shadow = flights.Select(f => _alternative.Predict(TestFiles.Encode(f.Airline, f.FlightType, f.Month))).ToArray();
        Assert.Equal(served.Select(p => p.Probability), results.Select(r => r.GetProperty("probability").GetSingle()));

        // Outcomes for every third row, so the comparison has both sides' quality.
        var truth = Enumerable.Range(1, flights.Length).Where(r => r % 3 == 0).ToDictionary(r => r, r => r % 2 == 0);
        var report = await _api.PostAsync($"/v1/jobs/{job}/outcomes", JobApi.Body("row,delayed\n" + string.Join('\n', truth.Select(t => $"{t.Key},{(t.Value ? 1 : 0)}")), "text/csv"));
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);

        var comparison = await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_alternative.Version}/comparison");
        Assert.Equal([_shipped.Version], comparison.GetProperty("served").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(flights.Length, comparison.GetProperty("rows").GetInt64());
        Assert.Equal(served.Zip(shadow).Count(p => p.First.Delayed == p.Second.Delayed), comparison.GetProperty("agreements").GetInt64());
        Assert.Equal(shadow.Zip(served).Average(p => (double)(p.First.Probability - p.Second.Probability)), comparison.GetProperty("meanDifference").GetDouble(), 6);
        Assert.Equal(flights.Length, comparison.GetProperty("histogram").EnumerateArray().Sum(b => b.GetInt64()));
        var rows = truth.Keys.Order().ToArray();
        foreach (var (side, predictions) in new[] { ("servedQuality", served), ("challengerQuality", shadow) })
        {
            var expected = BinaryQuality.Evaluate([.. rows.Select(r => truth[r])], [.. rows.Select(r => predictions[r - 1].Delayed)], [.. rows.Select(r => predictions[r - 1].Probability)]);
            var quality = comparison.GetProperty(side);
            Assert.Equal(expected.ConfusionMatrix, quality.GetProperty("confusionMatrix").Deserialize<long[][]>());
            Assert.Equal(expected.RocAuc!.Value, quality.GetProperty("rocAuc").GetDouble(), 12);
        }

        // Retired, it scores nothing more: the next job adds no compared rows.
        Assert.Equal(HttpStatusCode.OK, (await _api.PostAsync($"/v1/models/{_alternative.Version}/retire", null)).StatusCode);
        var next = await _api.SubmitAsync(JobApi.Csv(flights));
        await _api.WaitForStatusAsync(next, "succeeded");
        Assert.Equal(flights.Length, (await _api.GetFromJsonAsync<JsonElement>($"/v1/models/{_alternative.Version}/comparison")).GetProperty("rows").GetInt64());
        Assert.Equal(JsonValueKind.Null, (await _api.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("challenger").ValueKind);
    }

    [Fact]
    public async Task The_champion_cannot_be_challenger_or_retired_and_a_promoted_challenger_leaves_the_role()
    {
        await Problem.ReadAsync(await _api.PostAsync($"/v1/models/{_shipped.Version}/challenge", null), HttpStatusCode.Conflict);
        await Problem.ReadAsync(await _api.PostAsync($"/v1/models/{_shipped.Version}/retire", null), HttpStatusCode.Conflict);
        await Problem.ReadAsync(await _api.PostAsync("/v1/models/m-000000000000/challenge", null), HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.OK, (await _api.PostAsync($"/v1/models/{_alternative.Version}/challenge", null)).StatusCode);
        Assert.Equal(_alternative.Version, _factory.Services.GetRequiredService<CurrentModel>().Challenger?.Version);
        Assert.Equal(HttpStatusCode.OK, (await _api.PostAsync($"/v1/models/{_alternative.Version}/promote?force=true", null)).StatusCode);
        var list = await _api.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(_alternative.Version, list.GetProperty("champion").GetString());
        Assert.Equal(JsonValueKind.Null, list.GetProperty("challenger").ValueKind);
        Assert.Null(_factory.Services.GetRequiredService<CurrentModel>().Challenger);
    }
}

/// <summary>
/// The sync sample, on a host of its own in the metrics collection: OpenTelemetry listens to meters by name, so another
/// host's "FlightDelay.Model" instruments in the same process (the class above starts one per test) would be exported
/// in this one's place.
/// </summary>
[Collection(FlightDelay.Tests.Api.MetricsCollection.Name)]
public sealed class ShadowSamplingTests
{
    private readonly FlightModel _shipped = FlightModel.Load(TestFiles.ShippedModel);
    private readonly FlightModel _alternative = AlternativeModel.Load();

    [Fact]
    public async Task A_sample_of_sync_requests_is_scored_by_the_challenger_off_the_path_and_counted_without_changing_an_answer()
    {
        await using var factory = new ApiFactory().With("Model:ShadowSampleRate", "1");
        using var api = factory.CreateClient();
        Assert.True(await factory.Services.GetRequiredService<ModelRegistry>().RegisterAsync(_alternative, "train", CancellationToken.None));
        Assert.Equal(HttpStatusCode.OK, (await api.PostAsync($"/v1/models/{_alternative.Version}/challenge", null)).StatusCode);

        var flights = JobApi.Flights(40, seed: 3);
        var answers = await api.PredictAsync(flights);
        var served = flights.Select(f => _shipped.Predict(TestFiles.Encode(f.Airline, f.FlightType, f.Month))).ToArray();
        Assert.Equal(served.Select(p => p.Probability), answers.Select(a => a.Probability));

        var agreed = flights.Select(f => _alternative.Predict(TestFiles.Encode(f.Airline, f.FlightType, f.Month))).Zip(served).Count(p => p.First.Delayed == p.Second.Delayed);
        var metrics = await Poll.UntilAsync(() => api.GetStringAsync("/metrics"),
            text => PrometheusText.Sum(text, "flightdelay_model_shadow_rows_total", ("challenger", _alternative.Version)) == flights.Length,
            JobApi.Deadline, "the 40 sampled rows to be scored in the shadow");
        Assert.Equal(agreed, PrometheusText.Sum(metrics, "flightdelay_model_shadow_rows_total", ("challenger", _alternative.Version), ("agreed", "true")));
        Assert.Equal(flights.Length, PrometheusText.Sum(metrics, "flightdelay_model_shadow_difference_count", ("challenger", _alternative.Version)));
    }
}
