using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>Model card, health, metrics, OpenAPI and the page.</summary>
public class ServiceEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Model_card_lists_version_metrics_features_and_accepted_values()
    {
        var card = await _client.GetFromJsonAsync<JsonElement>("/v1/model");

        Assert.StartsWith("m-", card.GetProperty("version").GetString());
        Assert.Equal("LogisticRegression", card.GetProperty("algorithm").GetString());
        Assert.InRange(card.GetProperty("metrics").GetProperty("rocAuc").GetDouble(), 0.655, 1);
        Assert.Equal(37, card.GetProperty("featureNames").GetArrayLength());
        Assert.Equal(23, card.GetProperty("airlines").GetArrayLength());
        Assert.Equal(2, card.GetProperty("metrics").GetProperty("confusionMatrix").GetArrayLength());
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    public async Task Health_endpoints_answer_healthy(string path)
    {
        var response = await _client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_reports_the_loaded_model()
    {
        var ready = await _client.GetFromJsonAsync<JsonElement>("/health/ready");

        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("model").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Metrics_count_predictions_by_label()
    {
        await _client.PostAsJsonAsync("/v1/predictions", new { flights = new[] { new { airline = "Iberia", flightType = "I", month = 3 } } });

        var metrics = await _client.GetStringAsync("/metrics");

        Assert.Contains("flightdelay_predictions_total", metrics);
        Assert.Contains("flightdelay_prediction_probability_bucket", metrics);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_endpoints()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var paths = doc.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/predict_api", out _));
        Assert.True(paths.TryGetProperty("/v1/predictions", out _));
        Assert.True(paths.TryGetProperty("/v1/model", out _));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/docs/")).StatusCode);
    }

    [Fact]
    public async Task Page_offers_the_three_choices_from_lists_with_a_strict_csp()
    {
        var response = await _client.GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("<select id=\"airline\" name=\"airline\"", html);
        Assert.Contains("<option>Grupo LATAM</option>", html);
        Assert.Contains("name=\"flightType\" value=\"N\"", html);
        Assert.Contains("<option value=\"12\">December</option>", html);
        Assert.Contains("action=\"/predict\"", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "", StringComparison.Ordinal));
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/app.js")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/app.css")).StatusCode);
    }

    [Fact]
    public async Task The_form_works_without_javascript()
    {
        var response = await _client.PostAsync("/predict", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["airline"] = "Grupo LATAM", ["flightType"] = "I", ["month"] = "7",
        }));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var delayed = SeedModel.Instance.Predict(TestFiles.Encode("Grupo LATAM", "I", 7));
        Assert.Contains(delayed ? "Likely delayed" : "Likely on time", html);
        Assert.Contains("<option selected>Grupo LATAM</option>", html);
    }

    [Fact]
    public async Task The_form_explains_a_bad_choice()
    {
        var response = await _client.PostAsync("/predict", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["airline"] = "Pan Am", ["flightType"] = "I", ["month"] = "7",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Unknown airline", await response.Content.ReadAsStringAsync());
    }
}
