using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// JSON a client gets wrong is answered in JSON's words, never .NET's, on the sync and the job routes alike; and a month
/// written as an integral number with a fraction (<c>7.0</c>, as numpy and pandas write it) is month 7.
/// </summary>
public sealed class JsonMessagesTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _api = factory.CreateClient();

    [Fact]
    public async Task A_month_written_as_7_0_is_july_on_both_routes()
    {
        var asFloat = await Predict("""{"airline":"Grupo LATAM","flightType":"I","month":7.0}""");
        var asInt = await Predict("""{"airline":"Grupo LATAM","flightType":"I","month":7}""");
        Assert.Equal(HttpStatusCode.OK, asFloat.StatusCode);
        Assert.Equal(await asInt.Content.ReadAsStringAsync(), await asFloat.Content.ReadAsStringAsync());

        var job = await _api.PostAsync("/v1/jobs", new StringContent("""{"flights":[{"airline":"Grupo LATAM","flightType":"I","month":7.0}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
    }

    [Theory]
    [InlineData("""{"airline":"Iberia","flightType":"I","month":7.5}""", "$.flights[0].month", "must be a whole number; 7.5 is not one")]
    [InlineData("""{"airline":"Iberia","flightType":"I","month":"July"}""", "$.flights[0].month", "must be a whole number, not a string")]
    [InlineData("""{"airline":7,"flightType":"I","month":7}""", "$.flights[0].airline", "expected a string")]
    [InlineData("""{"features":"all of them"}""", "$.flights[0].features", "expected an array")]
    [InlineData("""{"features":[1,"0"]}""", "$.flights[0].features", "expected a number")]
    [InlineData("""{"airline":"Iberia","flightType":"I","month":3,"gate":"B"}""", "$.flights[0]", "unknown property 'gate'")]
    [InlineData("""{"airline":"Iberia","flightType":"I","month":3,"month":4}""", "$.flights[0]", "property 'month' is given twice")]
    public async Task A_value_of_the_wrong_kind_is_named_in_json_terms(string flight, string where, string expected)
    {
        var problem = await Problem.ReadAsync(await Predict(flight), HttpStatusCode.BadRequest);
        Assert.Contains(where, problem.Detail);
        Assert.Contains(expected, problem.Detail);
        Assert.DoesNotContain("System.", problem.Detail);
        Assert.DoesNotContain("FlightDelay.", problem.Detail);

        var job = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", new StringContent($$"""{"flights":[{{flight}}]}""", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest);
        Assert.Contains(expected, job.Root.GetRawText());
        Assert.DoesNotContain("System.", job.Root.GetRawText());
    }

    [Fact]
    public async Task Each_flight_of_the_wrong_shape_in_a_json_job_is_its_own_row_error()
    {
        var body = """{"flights":[{"airline":"Iberia","flightType":"I","month":"July"},{"airline":"Iberia","flightType":"I","month":3},{"airline":"Iberia","flightType":"I","month":3,"gate":"B"},{"airline":"Pan Am","flightType":"I","month":3}]}""";

        var problem = await Problem.ReadAsync(await _api.PostAsync("/v1/jobs", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        var rows = problem.Root.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal([1, 3, 4], rows.Select(r => r.GetProperty("row").GetInt32()));
        Assert.Contains("must be a whole number", rows[0].GetProperty("message").GetString());
        Assert.Contains("unknown property 'gate'", rows[1].GetProperty("message").GetString());
        Assert.DoesNotContain("FlightDelay.", problem.Root.GetRawText());
        Assert.Contains("Pan Am", rows[2].GetProperty("message").GetString());
    }

    private Task<HttpResponseMessage> Predict(string flight) =>
        _api.PostAsync("/v1/predictions", new StringContent($$"""{"flights":[{{flight}}]}""", Encoding.UTF8, "application/json"));
}
