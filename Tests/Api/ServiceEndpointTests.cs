using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>Model card, health, metrics, OpenAPI and the page.</summary>
public partial class ServiceEndpointTests(ApiFactory factory) : IClassFixture<ApiFactory>
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

    [Fact]
    public async Task Model_card_says_what_the_probability_and_the_label_are_worth_and_the_training_base_rates()
    {
        var card = await _client.GetFromJsonAsync<JsonElement>("/v1/model");
        var shipped = ModelCard.Read(Path.Combine(TestFiles.ShippedModel, FlightModel.CardFileName));

        // The label's hit rate is the precision of "delayed" at the decision threshold, as the card measured it.
        var calibration = card.GetProperty("calibration");
        Assert.Equal(shipped.Metrics.Precision, calibration.GetProperty("hitRate").GetDouble());
        Assert.Equal(shipped.Metrics.Recall, calibration.GetProperty("catchRate").GetDouble());
        Assert.Equal(shipped.Calibration!.DecisionThreshold, calibration.GetProperty("decisionThreshold").GetDouble());
        Assert.Equal(shipped.Calibration.Brier, calibration.GetProperty("brier").GetDouble());
        Assert.Equal(shipped.Calibration.ExpectedCalibrationError, calibration.GetProperty("expectedCalibrationError").GetDouble());
        Assert.Equal(10, calibration.GetProperty("reliability").GetArrayLength());
        Assert.Equal(shipped.TestRows, calibration.GetProperty("reliability").EnumerateArray().Sum(b => b.GetProperty("flights").GetInt32()));

        var training = card.GetProperty("training");
        Assert.Equal(23, training.GetProperty("byAirline").GetArrayLength());
        Assert.Equal(12, training.GetProperty("byMonth").GetArrayLength());
        var combos = training.GetProperty("byAirlineType").EnumerateArray().ToList();
        Assert.Equal(46, combos.Count);
        Assert.Equal(card.GetProperty("trainRows").GetInt32(), combos.Sum(c => c.GetProperty("flights").GetInt32()));

        // Documented: the OpenAPI document describes the new fields.
        var openApi = await _client.GetStringAsync("/openapi/v1.json");
        Assert.Contains("Precision of the `delayed` label on the test set", openApi);
        Assert.Contains("Per airline and flight type (I, N)", openApi);
        Assert.Contains("wait to be sent again", openApi);
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
        Assert.Contains(delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk", html);
        Assert.DoesNotContain(delayed ? "Not flagged as a delay risk" : ">Flagged as a delay risk", html);
        Assert.Contains("<option selected>Grupo LATAM</option>", html);
        // The probability as a bar and the model version, as the JavaScript answer shows them.
        var probability = (await _client.PredictAsync([("Grupo LATAM", "I", 7)]))[0].Probability;
        Assert.Matches($"<rect class=\"fill [a-z-]+\" width=\"{Math.Round(probability * 100, 1).ToString(System.Globalization.CultureInfo.InvariantCulture)}\"", html);
        var version = (await _client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString();
        Assert.Contains($"Model <code>{version}</code>", html);
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

    [Fact]
    public async Task Page_has_four_sections_and_no_inline_script_or_style()
    {
        var html = await _client.GetStringAsync("/");

        foreach (var section in new[] { "predict", "batch", "jobs", "model" })
            Assert.Contains($"<section id=\"{section}\" class=\"panel\"", html);
        Assert.Contains("<input type=\"file\" id=\"upload-file\"", html);
        Assert.DoesNotContain(" style=", html);
        Assert.DoesNotContain("<style", html);
        // Scripts come from files; the one inline block is data (the model card), which the CSP does not run.
        Assert.Equal(["src=\"/app.js\" defer", "type=\"application/json\" id=\"model-card\""],
            ScriptTag().Matches(html).Select(m => m.Groups[1].Value));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/favicon.svg")).StatusCode);
    }

    [Fact]
    public async Task The_example_file_the_page_offers_is_a_valid_job()
    {
        var response = await _client.GetAsync("/example-flights.csv");
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("airline,flightType,month\n", csv);
        var submitted = await _client.PostAsync("/v1/jobs", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        Assert.Equal(csv.Trim().Split('\n').Length - 1, (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("totalRows").GetInt32());
    }

    [Fact]
    public async Task Page_carries_the_model_card_with_training_delay_rates_and_the_roc_curve()
    {
        var html = await _client.GetStringAsync("/");
        var card = JsonDocument.Parse(ModelCardData().Match(html).Groups[1].Value).RootElement;

        var training = card.GetProperty("training");
        var airlines = training.GetProperty("byAirline").EnumerateArray().ToList();
        var months = training.GetProperty("byMonth").EnumerateArray().ToList();
        Assert.Equal(FlightSchema.Airlines, airlines.Select(a => a.GetProperty("airline").GetString()));
        Assert.Equal(Enumerable.Range(1, 12), months.Select(m => m.GetProperty("month").GetInt32()));
        var trainRows = card.GetProperty("trainRows").GetInt32();
        Assert.Equal(trainRows, airlines.Sum(a => a.GetProperty("flights").GetInt32()));
        Assert.Equal(trainRows, months.Sum(m => m.GetProperty("flights").GetInt32()));
        Assert.Equal(airlines.Sum(a => a.GetProperty("delayed").GetInt32()), training.GetProperty("delayed").GetInt32());
        Assert.InRange(training.GetProperty("delayRate").GetDouble(), 0.15, 0.25);
        var july = months[6];
        Assert.Equal(Math.Round(july.GetProperty("delayed").GetDouble() / july.GetProperty("flights").GetInt32(), 4), july.GetProperty("delayRate").GetDouble());

        // The ROC curve climbs from (0, 0) to (1, 1) and its area is the card's AUC.
        var metrics = card.GetProperty("metrics");
        var roc = metrics.GetProperty("rocCurve").EnumerateArray()
            .Select(p => (X: p.GetProperty("falsePositiveRate").GetDouble(), Y: p.GetProperty("truePositiveRate").GetDouble())).ToList();
        Assert.Equal((0.0, 0.0), roc[0]);
        Assert.Equal((1.0, 1.0), roc[^1]);
        Assert.True(roc.Zip(roc.Skip(1)).All(p => p.Second.X >= p.First.X && p.Second.Y >= p.First.Y));
        var area = roc.Zip(roc.Skip(1)).Sum(p => (p.Second.X - p.First.X) * (p.First.Y + p.Second.Y) / 2);
        Assert.Equal(metrics.GetProperty("rocAuc").GetDouble(), area, 0.005);
        // Rendered as tables too, for readers without JavaScript.
        Assert.Contains("<th scope=\"row\">Plus Ultra Lineas Aereas</th>", html);
    }

    [GeneratedRegex("<script ([^>]*)>")]
    private static partial Regex ScriptTag();

    [GeneratedRegex("<script type=\"application/json\" id=\"model-card\">(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex ModelCardData();
}
