using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// A corpus of hostile requests against every endpoint: each gets a 4xx with a problem body (never a 5xx), and the
/// service answers correctly afterwards.
/// </summary>
public sealed class HostileInputTests : IClassFixture<HostileInputTests.SmallLimits>
{
    private static readonly string Zeros36 = string.Join(",", Enumerable.Repeat("0", 36));
    private static readonly string SeedOk = "{\"data\":[" + string.Join(",", TestFiles.Encode("Grupo LATAM", "I", 7)) + "]}";
    private readonly HttpClient _client;

    public HostileInputTests(SmallLimits factory) => _client = factory.CreateClient();

    /// <summary>The API with a 4 MiB upload limit, so that "over the limit" is quick to send.</summary>
    public sealed class SmallLimits : IAsyncLifetime
    {
        private readonly ApiFactory _factory = new ApiFactory().With("Jobs:MaxUploadBytes", (4 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture));

        public HttpClient CreateClient() => _factory.CreateClient();

        public Task InitializeAsync() => Task.CompletedTask;

        public async Task DisposeAsync() => await _factory.DisposeAsync();
    }

    private static readonly string[] JsonRoutes = ["/predict_api", "/v1/predictions", "/v1/jobs"];

    public static TheoryData<string, string, string?, string> Cases()
    {
        var cases = new TheoryData<string, string, string?, string>();
        var hostileJson = new Dictionary<string, string>
        {
            ["empty"] = "",
            ["whitespace"] = "   \r\n\t ",
            ["truncated"] = "{\"data\": [1, 2",
            ["truncated string"] = "{\"flights\": [{\"airline\": \"Grupo",
            ["not json"] = "<xml/>",
            ["bare number"] = "42",
            ["bare string"] = "\"flights\"",
            ["array"] = "[1, 2, 3]",
            ["null"] = "null",
            ["deeply nested"] = new string('[', 5000) + new string(']', 5000),
            ["deeply nested object"] = string.Concat(Enumerable.Repeat("{\"a\":", 3000)) + "1" + new string('}', 3000),
            ["duplicate keys"] = "{\"data\": [], \"data\": [], \"flights\": [], \"flights\": []}",
            ["huge number"] = "{\"data\": [1" + new string('0', 400) + "], \"flights\": [{\"features\": [1" + new string('0', 400) + "]}]}",
            ["huge exponent"] = "{\"data\": [1e999999], \"flights\": [{\"month\": 1e999999}]}",
            ["negative zero month"] = "{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": -0}]}",
            ["NaN text"] = "{\"data\": [NaN], \"flights\": [{\"features\": [NaN]}]}",
            ["Infinity text"] = "{\"data\": [-Infinity], \"flights\": [{\"features\": [Infinity]}]}",
            ["strings for numbers"] = "{\"data\": [\"1\",\"2\"], \"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": \"7\"}]}",
            ["numbers for strings"] = "{\"flights\": [{\"airline\": 12, \"flightType\": 1, \"month\": 7}]}",
            ["object for array"] = "{\"data\": {\"0\": 1}, \"flights\": {\"0\": {}}}",
            ["control characters"] = "{\"flights\": [{\"airline\": \"Ib\u0001eria\", \"flightType\": \"I\", \"month\": 7}]}",
            ["invalid utf8 escape"] = "{\"flights\": [{\"airline\": \"\\uD800\", \"flightType\": \"I\", \"month\": 7}]}",
            ["trailing garbage"] = "{\"flights\": []} garbage",
            ["comments"] = "{/* hi */ \"flights\": []}",
            ["trailing comma"] = "{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 7},]}",
            ["single quotes"] = "{'flights': []}",
            ["BOM then garbage"] = "\uFEFF\uFEFF{}",
            ["unknown property"] = "{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 7, \"tail\": \"CC-BAW\"}], \"data\": 1}",
            ["sql in a name"] = "{\"flights\": [{\"airline\": \"Iberia'; DROP TABLE jobs; --\", \"flightType\": \"I\", \"month\": 7}], \"data\": [\"'; DROP TABLE jobs; --\"]}",
            ["path traversal in a name"] = "{\"flights\": [{\"airline\": \"../../etc/passwd\", \"flightType\": \"I\", \"month\": 7}], \"data\": [\"../../etc/passwd\"]}",
        };
        foreach (var route in JsonRoutes)
        {
            foreach (var (name, body) in hostileJson)
                cases.Add("POST", route, "application/json", body);
            cases.Add("POST", route, "application/x-www-form-urlencoded", "data=1");
            cases.Add("POST", route, "text/plain", SeedOk);
            cases.Add("POST", route, "multipart/form-data; boundary=x", "--x--");
            cases.Add("POST", route, "application/json; charset=utf-16", "{}");
        }

        var hostileCsv = new[]
        {
            "", "\r\n\r\n", "airline,flightType,month\n", "airline;flightType;month\nIberia,I,7\n",
            "airline,flightType,month\nIberia,I,7,extra\n", "airline,flightType,month\n\"Iberia,I,7\n",
            "airline,flightType,month\nIberia,I,13\n", "airline,flightType,month\nIberia,X,7\n",
            "airline,flightType,month\nIberia,I,1e3\n", "airline,flightType,month\nIberia,I,-0\n",
            $"NaN,{Zeros36}\n", $"1e400,{Zeros36}\n", $"\"1\"\"\",{Zeros36}\n", "\0\0\0\0", "airline,flightType,month\n" + new string('x', 2 * 1024 * 1024),
        };
        foreach (var body in hostileCsv)
            cases.Add("POST", "/v1/jobs", "text/csv", body);

        foreach (var path in new[]
        {
            "/v1/jobs/not-a-guid", "/v1/jobs/00000000-0000-0000-0000-000000000000", "/v1/jobs/..%2F..%2Fetc%2Fpasswd/results",
            "/v1/jobs/%2e%2e/%2e%2e/etc/passwd", "/v1/jobs/' OR 1=1 --", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
            "/v1/jobs?limit=abc", "/v1/jobs?limit=100000", "/v1/jobs?offset=-1", "/v1/jobs?status=%27%3B%20DROP",
            $"/v1/jobs/{Guid.NewGuid()}/results?after=-5", $"/v1/jobs/{Guid.NewGuid()}/results?limit=0",
            $"/v1/jobs/{Guid.NewGuid()}/results.csv", "/v1/model/../../etc/passwd", "/v1/nothing-here",
        })
            cases.Add("GET", path, null, "");
        cases.Add("POST", $"/v1/jobs/{Guid.NewGuid()}/cancel", null, "");
        cases.Add("POST", "/v1/jobs/not-a-guid/cancel", null, "");
        cases.Add("DELETE", "/v1/jobs", null, "");
        cases.Add("PUT", "/predict_api", "application/json", SeedOk);
        cases.Add("GET", "/predict_api", null, "");
        return cases;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Every_hostile_request_is_a_4xx_problem_and_the_service_stays_correct(string method, string path, string? contentType, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        var response = await _client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode is >= 400 and < 500, $"{method} {path} → {(int)response.StatusCode}: {text[..Math.Min(300, text.Length)]}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        await AssertStillCorrect();
    }

    [Theory]
    [InlineData("/predict_api")]
    [InlineData("/v1/predictions")]
    [InlineData("/v1/jobs")]
    public async Task Invalid_utf8_anywhere_is_a_400_problem(string route)
    {
        foreach (var bytes in new byte[][]
        {
            [(byte)'{', (byte)'"', 0xF3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'],
            [.. "{\"flights\": [{\"airline\": \""u8, 0xC3, 0x28, .. "\", \"flightType\": \"I\", \"month\": 7}]}"u8],
            [0xFF, 0xFE, (byte)'{', 0, (byte)'}', 0],
        })
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            await Problem.ReadAsync(await _client.PostAsync(route, content), HttpStatusCode.BadRequest);
        }
        await AssertStillCorrect();
    }

    [Theory]
    [InlineData("airline,flightType,month\r\nGrupo LATAM,I,7\r\nIberia,N,3\r\n")]
    [InlineData("airline,flightType,month\nGrupo LATAM,I,7\r\nIberia,N,3")]
    [InlineData("\uFEFF\"airline\",\"flightType\",\"month\"\r\n\"Grupo LATAM\",\"I\",\"7\"\n\"Iberia\",N,3\n")]
    public async Task Crlf_mixed_line_endings_bom_and_quotes_are_accepted(string csv)
    {
        var id = await _client.SubmitAsync(csv);

        var job = await _client.WaitForStatusAsync(id, "succeeded");
        Assert.Equal(2, job.GetProperty("totalRows").GetInt32());
    }

    [Fact]
    public async Task An_upload_over_the_limit_is_413_whether_or_not_it_says_its_length()
    {
        var big = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(300_000)));
        Assert.True(big.Length > 4 * 1024 * 1024);

        var withLength = new ByteArrayContent(big);
        withLength.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        await Problem.ReadAsync(await _client.PostAsync("/v1/jobs", withLength), HttpStatusCode.RequestEntityTooLarge);

        var chunked = new StreamContent(new MemoryStream(big));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        await Problem.ReadAsync(await _client.PostAsync("/v1/jobs", chunked), HttpStatusCode.RequestEntityTooLarge);
        await AssertStillCorrect();
    }

    private async Task AssertStillCorrect()
    {
        var response = await _client.PostAsync("/predict_api", new StringContent(SeedOk, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(SeedModel.Instance.Predict(TestFiles.Encode("Grupo LATAM", "I", 7)) ? "\"1\"\n" : "\"0\"\n", await response.Content.ReadAsStringAsync());
    }
}
