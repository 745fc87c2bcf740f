using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.Options;

namespace FlightDelay.Tests.Api;

/// <summary>API keys, ownership of jobs, rate limits, admission control and headers.</summary>
public sealed class SecurityTests : IAsyncLifetime
{
    private const string AlphaKey = "fd_alpha-secret-key-0123456789abcdef";
    private const string BetaKey = "fd_beta-secret-key-0123456789abcdef";
    private static readonly string SeedBody = JsonSerializer.Serialize(new { data = TestFiles.Encode("Grupo LATAM", "I", 7) });

    private ApiFactory _factory = null!;

    public Task InitializeAsync()
    {
        _factory = WithKeys(new ApiFactory());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    private static ApiFactory WithKeys(ApiFactory factory) => factory
        .With("ApiKeys:Keys:0:Id", "alpha").With("ApiKeys:Keys:0:Hash", ApiFactory.KeyHash(AlphaKey))
        .With("ApiKeys:Keys:1:Id", "beta").With("ApiKeys:Keys:1:Hash", ApiFactory.KeyHash(BetaKey));


    private HttpClient Client(string? key)
    {
        var client = _factory.CreateClient();
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData(null, "Send a valid API key")]
    [InlineData("fd_wrong", "is not valid")]
    [InlineData(" ", "X-Api-Key header")]
    public async Task Without_a_valid_key_every_api_route_is_a_401_problem(string? key, string expected)
    {
        var client = Client(key);

        foreach (var response in new[]
        {
            await client.PostAsync("/predict_api", Json(SeedBody)),
            await client.PostAsync("/v1/predictions", Json("{\"flights\":[{\"airline\":\"Iberia\",\"flightType\":\"I\",\"month\":3}]}")),
            await client.GetAsync("/v1/model"),
            await client.GetAsync("/v1/jobs"),
            await client.GetAsync($"/v1/jobs/{Guid.NewGuid()}"),
        })
        {
            var problem = await Problem.ReadAsync(response, HttpStatusCode.Unauthorized);
            Assert.Contains(expected, problem.Detail);
            Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.Single().ToString());
        }
    }

    [Fact]
    public async Task A_valid_key_gets_in_and_health_and_the_page_stay_open()
    {
        var response = await Client(AlphaKey).PostAsync("/predict_api", Json(SeedBody));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client(BetaKey).GetAsync("/v1/model")).StatusCode);

        var anonymous = Client(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Metrics_can_be_put_behind_a_key()
    {
        await using var factory = WithKeys(new ApiFactory()).With("ApiKeys:ProtectMetrics", "true");
        var anonymous = factory.CreateClient();
        var keyed = factory.CreateClient();
        keyed.DefaultRequestHeaders.Add("X-Api-Key", AlphaKey);

        await Problem.ReadAsync(await anonymous.GetAsync("/metrics"), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task With_keys_the_openapi_document_declares_the_key_and_requires_it_where_the_api_does()
    {
        var document = await Client(null).GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        var paths = document.GetProperty("paths");
        var predict = paths.GetProperty("/v1/predictions").GetProperty("post");
        Assert.True(predict.GetProperty("security")[0].TryGetProperty("ApiKey", out _));
        Assert.True(predict.GetProperty("responses").TryGetProperty("401", out _));
        // Probes stay open, and say so.
        Assert.False(paths.GetProperty("/v2/health/live").GetProperty("get").TryGetProperty("security", out _));

        // Without keys the API is open and the document claims no scheme.
        await using var open = new ApiFactory();
        var openDocument = await open.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.False(openDocument.TryGetProperty("components", out var components) && components.TryGetProperty("securitySchemes", out _));
        Assert.False(openDocument.GetProperty("paths").GetProperty("/v1/predictions").GetProperty("post").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task Jobs_belong_to_the_key_that_submitted_them()
    {
        var alpha = Client(AlphaKey);
        var beta = Client(BetaKey);
        var id = await alpha.SubmitAsync(JobApi.Csv(JobApi.Flights(50)));

        Assert.Equal(HttpStatusCode.OK, (await alpha.GetAsync($"/v1/jobs/{id}")).StatusCode);
        await Problem.ReadAsync(await beta.GetAsync($"/v1/jobs/{id}"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await beta.GetAsync($"/v1/jobs/{id}/results"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await beta.PostAsync($"/v1/jobs/{id}/cancel", null), HttpStatusCode.NotFound);
        Assert.Equal(0, (await beta.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
        Assert.Equal(id, (await alpha.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items")[0].GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task Keys_that_are_not_sha256_hashes_stop_the_start()
    {
        await using var factory = new ApiFactory().With("ApiKeys:Keys:0:Id", "alpha").With("ApiKeys:Keys:0:Hash", "plain-text-key");

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("SHA-256", error.Message);
    }

    [Fact]
    public async Task A_client_over_its_rate_gets_429_with_retry_after()
    {
        await using var factory = WithKeys(new ApiFactory()).With("RateLimiting:RequestsPerSecond", "1").With("RateLimiting:Burst", "3");
        var alpha = factory.CreateClient();
        alpha.DefaultRequestHeaders.Add("X-Api-Key", AlphaKey);
        var beta = factory.CreateClient();
        beta.DefaultRequestHeaders.Add("X-Api-Key", BetaKey);

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 6; i++)
        {
            last = await alpha.PostAsync("/predict_api", Json(SeedBody));
            statuses.Add(last.StatusCode);
        }

        Assert.Equal(3, statuses.Count(s => s == HttpStatusCode.OK));
        await Problem.ReadAsync(last, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(last.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
        // Another key has its own bucket.
        Assert.Equal(HttpStatusCode.OK, (await beta.PostAsync("/predict_api", Json(SeedBody))).StatusCode);
    }

    [Fact]
    public async Task Past_the_queued_rows_cap_new_jobs_get_503_with_retry_after()
    {
        await using var factory = new ApiFactory().With("Jobs:MaxQueuedRows", "100");
        var client = factory.CreateClient();

        var response = await client.SubmitCsvAsync(JobApi.Csv(JobApi.Flights(150)));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.ServiceUnavailable);
        Assert.Contains("limit of 100", problem.Detail);
        Assert.Equal("30", response.Headers.GetValues("Retry-After").Single());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/v1/jobs")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Every_answer_carries_nosniff_and_no_referrer()
    {
        foreach (var path in new[] { "/", "/health/live", "/v1/model" })
        {
            var response = await Client(AlphaKey).GetAsync(path);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        }
    }
}
