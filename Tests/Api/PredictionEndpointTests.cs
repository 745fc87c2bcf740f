using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary><c>POST /v1/predictions</c>: named or raw flights, one or many.</summary>
public class PredictionEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Named_and_raw_flights_get_the_same_answer_with_the_model_version()
    {
        var features = TestFiles.Encode("Sky Airline", "N", 12);
        var response = await _client.PostAsJsonAsync("/v1/predictions", new
        {
            flights = new object[] { new { airline = "Sky Airline", flightType = "N", month = 12 }, new { features } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var model = await _client.GetFromJsonAsync<JsonElement>("/v1/model");
        Assert.Equal(model.GetProperty("version").GetString(), body.GetProperty("modelVersion").GetString());
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(2, predictions.Length);
        Assert.Equal(predictions[0].GetProperty("probability").GetSingle(), predictions[1].GetProperty("probability").GetSingle(), 5);
        Assert.Equal(SeedModel.Instance.Predict(features), predictions[0].GetProperty("delayed").GetBoolean());
        Assert.Equal(predictions[0].GetProperty("delayed").GetBoolean() ? 1 : 0, predictions[0].GetProperty("label").GetInt32());
        Assert.Equal([0, 1], predictions.Select(p => p.GetProperty("index").GetInt32()));
    }

    [Fact]
    public async Task A_batch_of_many_flights_scores_every_one_like_the_seed()
    {
        var rows = TestFiles.TestRows.Take(2000).ToArray();
        var response = await _client.PostAsJsonAsync("/v1/predictions", new { flights = rows.Select(r => new { features = r.Features }) });

        var predictions = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(rows.Length, predictions.Length);
        var agree = rows.Where((r, i) => SeedModel.Instance.Predict(r.Features) == predictions[i].GetProperty("delayed").GetBoolean()).Count();
        Assert.True(agree >= rows.Length - 3, $"{agree} of {rows.Length}");
    }

    [Fact]
    public async Task Validation_errors_point_at_the_item_and_field()
    {
        var response = await _client.PostAsJsonAsync("/v1/predictions", new
        {
            flights = new object?[]
            {
                new { airline = "Grupo LATAM", flightType = "I", month = 7 },
                new { airline = "Pan Am", flightType = "I", month = 0 },
                new { features = new[] { 1f, 2f } },
                new { airline = "Iberia", flightType = "I", month = 3, features = new float[37] },
                null,
            },
        });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(["flights[1].airline", "flights[1].month", "flights[2].features", "flights[3].features", "flights[4]"], problem.Errors.Keys.Order());
        Assert.Contains("Pan Am", problem.Errors["flights[1].airline"][0]);
        Assert.Contains("received 2", problem.Errors["flights[2].features"][0]);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{}", "non-empty array" },
        { "{\"flights\": []}", "non-empty array" },
        { "{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": \"7\"}]}", "$.flights[0].month" },
        { "{\"flights\": [{\"airlines\": \"Iberia\"}]}", "airlines" },
        { "{\"flights\": [{\"features\": [1, NaN]}]}", "Invalid JSON" },
        { "{\"flights\": [{\"features\": [1e400]}]}", "flights[0].features" },
        { "{\"flights\": [], \"flights\": []}", "Invalid JSON" },
        { "{\"flights\": [", "Invalid JSON" },
        { "null", "null" },
        { "[]", "Invalid JSON" },
        { "{\"flights\": [{}]} x", "Invalid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Malformed_bodies_are_400_problems(string body, string expected)
    {
        var response = await _client.PostAsync("/v1/predictions", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.Detail + string.Join(" ", problem.Errors.Keys));
    }

    [Fact]
    public async Task More_flights_than_the_limit_is_a_400_that_points_to_batch_jobs()
    {
        await using var limited = new ApiFactory().With("Predictions:MaxFlightsPerRequest", "3");
        var client = limited.CreateClient();
        var flight = new { airline = "Iberia", flightType = "I", month = 3 };

        var response = await client.PostAsJsonAsync("/v1/predictions", new { flights = Enumerable.Repeat(flight, 4) });

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("At most 3", problem.Detail);
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        var response = await _client.PostAsync("/v1/predictions", new StringContent("airline=Iberia", Encoding.UTF8, "text/csv"));

        await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Parallel_requests_through_the_pooled_engines_match_serial_answers()
    {
        var rows = TestFiles.TestRows.Take(400).Select(r => r.Features).ToArray();
        async Task<string> Ask(float[] f) =>
            await (await _client.PostAsync("/predict_api", new StringContent(JsonSerializer.Serialize(new { data = f }), Encoding.UTF8, "application/json")))
                .Content.ReadAsStringAsync();

        var serial = new List<string>();
        foreach (var row in rows) serial.Add(await Ask(row));
        var parallel = await Task.WhenAll(rows.Select(Ask));

        Assert.Equal(serial, parallel);
        Assert.Contains("\"1\"\n", serial);
        Assert.Contains("\"0\"\n", serial);
    }
}
