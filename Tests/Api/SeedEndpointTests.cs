using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary><c>POST /predict_api</c>: byte-compatible with the seed, and a clear 4xx for everything else.</summary>
public class SeedEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    // One of the seed's own example requests: Grupo LATAM, international, July.
    private static readonly float[] SeedExample = TestFiles.Encode("Grupo LATAM", "I", 7);

    private static string Body(IEnumerable<float> data) => JsonSerializer.Serialize(new { data });

    [Fact]
    public async Task Seed_request_gets_the_json_string_and_newline_the_seed_answered()
    {
        var response = await _client.PostAsync("/predict_api", Json(Body(SeedExample)));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var expected = SeedModel.Instance.Predict(SeedExample) ? "\"1\"\n" : "\"0\"\n";
        Assert.Equal(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Answers_match_the_seed_model_on_test_rows()
    {
        foreach (var (_, features) in TestFiles.TestRows.Take(300))
        {
            var answer = await (await _client.PostAsync("/predict_api", Json(Body(features)))).Content.ReadAsStringAsync();
            Assert.Equal(SeedModel.Instance.Predict(features) ? "\"1\"\n" : "\"0\"\n", answer);
        }
    }

    [Fact]
    public async Task A_body_without_content_type_is_read_as_json_like_the_seeds_force_true()
    {
        var content = new StringContent(Body(SeedExample));
        content.Headers.ContentType = null;

        var response = await _client.PostAsync("/predict_api", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_seeds_own_29_number_benchmark_body_is_a_400_naming_both_counts()
    {
        var response = await _client.PostAsync("/predict_api", Json(Body(Enumerable.Range(1, 29).Select(i => (float)i))));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("37", problem.Detail);
        Assert.Contains("29", problem.Detail);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "", "empty" },
        { "{}", "Missing 'data'" },
        { "{\"data\": null}", "'data' is null" },
        { "{\"data\": 5}", "'data' is a number" },
        { "{\"data\": \"0,1\"}", "'data' is a string" },
        { "[1, 2, 3]", "not a JSON object" },
        { "{\"data\": [1, \"x\"]}", "data[1] is a string" },
        { "{\"data\": [1, [2]]}", "data[1] is an array" },
        { "{\"data\": [1, true]}", "data[1] is a boolean" },
        { "{\"data\": [1, null]}", "data[1] is null" },
        { "{\"data\": [NaN]}", "Malformed JSON" },
        { "{\"data\": [Infinity]}", "Malformed JSON" },
        { "{\"data\": [1e400]}", "data[0] is out of range" },
        { "{\"data\": [1e39]}", "data[0] is out of range" },
        { "{\"data\": [1, 2", "Malformed JSON" },
        { "{\"data\": [], \"data\": []}", "more than once" },
        { "{\"data\": [], \"extra\": 1}", "Unexpected property 'extra'" },
        { "{\"data\": []} {}", "after a single JSON value" },
        { "{\"data\": []}", "received 0" },
        { "not json", "Malformed JSON" },
        { "\uFEFF{\"data\": []}", "received 0" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Every_malformed_body_is_a_400_problem_that_says_what_is_wrong(string body, string expected)
    {
        var response = await _client.PostAsync("/predict_api", Json(body));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("application/xml")]
    public async Task A_non_json_content_type_is_a_415_problem(string contentType)
    {
        var content = new StringContent(Body(SeedExample), Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        var response = await _client.PostAsync("/predict_api", content);

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("application/json", problem.Detail);
    }

    [Fact]
    public async Task A_body_over_the_limit_is_a_413_problem()
    {
        var huge = "{\"data\": [" + string.Join(",", Enumerable.Repeat("0.000000000000000001", 10_000)) + "]}";

        var response = await _client.PostAsync("/predict_api", Json(huge));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536", problem.Detail);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_a_413_problem_too()
    {
        var huge = new string(' ', 70_000) + Body(SeedExample);
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(huge)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await _client.PostAsync("/predict_api", content);

        await Problem.ReadAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Service_still_answers_correctly_after_bad_requests()
    {
        foreach (var (body, _) in BadBodies.Select(row => ((string)row[0], row[1])))
            await _client.PostAsync("/predict_api", Json(body));

        var response = await _client.PostAsync("/predict_api", Json(Body(SeedExample)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
