using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace FlightDelay.Tests.Api;

/// <summary>Hot reload in the API: new model files or a new <c>Model:Directory</c> are served without a restart.</summary>
public class ModelReloadTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly float[] Latam = TestFiles.Encode("Grupo LATAM", "I", 7);

    private readonly ModelFolder _folder = ModelFolder.CopyOfShipped();
    private readonly FlightModel _shipped = FlightModel.Load(TestFiles.ShippedModel);
    private readonly FlightModel _alternative = AlternativeModel.Load();

    [Fact]
    public async Task Replacing_the_model_files_switches_every_endpoint_to_the_new_model()
    {
        await using var factory = new ApiFactory().With("Model:Directory", _folder.Path);
        using var client = factory.CreateClient();
        Assert.Equal(_shipped.Version, await VersionAsync(client));
        Assert.Equal(_shipped.Version, (await PredictAsync(client)).Version);

        _folder.ReplaceWith(AlternativeModel.Path);

        await Poll.UntilAsync(() => VersionAsync(client), v => v == _alternative.Version, Deadline, "/v1/model to report the new model");
        var card = await client.GetFromJsonAsync<JsonElement>("/v1/model");
        Assert.Equal("FastTree", card.GetProperty("algorithm").GetString());
        var (version, probability) = await PredictAsync(client);
        Assert.Equal(_alternative.Version, version);
        Assert.Equal(_alternative.Predict(Latam).Probability, probability, 5);
        Assert.NotEqual(_shipped.Predict(Latam).Probability, probability, 3);
        var seed = await client.PostAsJsonAsync("/predict_api", new { data = Latam });
        Assert.Equal(_alternative.Predict(Latam).Delayed ? "1" : "0", await seed.Content.ReadFromJsonAsync<string>());
        // Both stay in the registry, newest first; the replaced one can still be asked for by version.
        var v2 = await client.GetFromJsonAsync<JsonElement>("/v2/models/flight-delay");
        Assert.Equal([_alternative.Version, _shipped.Version], v2.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v2/models/flight-delay/versions/{_shipped.Version}/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v2/models/flight-delay/versions/m-000000000000/ready")).StatusCode);
        Assert.Contains(_alternative.Version, await client.GetStringAsync("/"));

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches(new Regex("flightdelay_model_reloads_total\\{[^}]*outcome=\"succeeded\""), metrics);
        Assert.Matches(new Regex($"flightdelay_model_info\\{{[^}}]*version=\"{_alternative.Version}\"[^}}]*\\}} 1"), metrics);
        Assert.Equal("Healthy", await ModelHealthAsync(client));
    }

    [Theory]
    [InlineData("corrupt")]
    [InlineData("mismatched")]
    public async Task A_bad_replacement_keeps_the_old_model_serving_and_health_degraded_until_a_good_one_arrives(string kind)
    {
        await using var factory = new ApiFactory().With("Model:Directory", _folder.Path);
        using var client = factory.CreateClient();
        Assert.Equal("Healthy", await ModelHealthAsync(client));

        if (kind == "corrupt")
        {
            // A card that vouches for a model file ML.NET cannot read.
            var garbage = Encoding.UTF8.GetBytes("not a zip at all");
            var card = ModelCard.Read(Path.Combine(TestFiles.ShippedModel, FlightModel.CardFileName)) with { Version = FlightModel.VersionOf(garbage) };
            card.Write(Path.Combine(_folder.Path, "card.staged"));
            _folder.Write(FlightModel.ModelFileName, garbage);
            _folder.Write(FlightModel.CardFileName, File.ReadAllBytes(Path.Combine(_folder.Path, "card.staged")));
        }
        else
        {
            // The new model file next to the old card: not a pair.
            _folder.Write(FlightModel.ModelFileName, File.ReadAllBytes(Path.Combine(AlternativeModel.Path, FlightModel.ModelFileName)));
        }

        await Poll.UntilAsync(() => ModelHealthAsync(client), s => s == "Degraded", Deadline, "the model check to turn Degraded");
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // Degraded still serves
        var health = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(_folder.Path, health.GetProperty("checks").GetProperty("model").GetProperty("description").GetString());
        Assert.Equal(_shipped.Version, await VersionAsync(client));
        Assert.Equal(_shipped.Version, (await PredictAsync(client)).Version);
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Matches(new Regex("flightdelay_model_reloads_total\\{[^}]*outcome=\"failed\""), metrics);
        Assert.Matches(new Regex("flightdelay_model_reload_failed(\\{[^}]*\\})? 1"), metrics);

        _folder.ReplaceWith(AlternativeModel.Path);

        await Poll.UntilAsync(() => VersionAsync(client), v => v == _alternative.Version, Deadline, "the good replacement to be served");
        Assert.Equal("Healthy", await ModelHealthAsync(client));
    }

    [Fact]
    public async Task Changing_Model_Directory_in_configuration_switches_the_model()
    {
        using var alternative = ModelFolder.CopyOf(AlternativeModel.Path);
        var settings = Directory.CreateTempSubdirectory("flightdelay-settings-").FullName;
        var settingsFile = Path.Combine(settings, "appsettings.model.json");
        try
        {
            WriteModelDirectory(settingsFile, _folder.Path);
            await using var baseFactory = new ApiFactory();
            await using var factory = baseFactory.WithWebHostBuilder(b =>
                b.ConfigureAppConfiguration(c => c.AddJsonFile(settingsFile, optional: false, reloadOnChange: true)));
            using var client = factory.CreateClient();
            Assert.Equal(_shipped.Version, await VersionAsync(client));

            // A folder without a model is refused: the old model goes on serving.
            WriteModelDirectory(settingsFile, Path.Combine(settings, "missing"));
            await Poll.UntilAsync(() => ModelHealthAsync(client), s => s == "Degraded", Deadline, "a Model:Directory without a model to turn the check Degraded");
            var health = await client.GetFromJsonAsync<JsonElement>("/health/ready");
            Assert.Contains("Model:Directory", health.GetProperty("checks").GetProperty("model").GetProperty("description").GetString());
            Assert.Equal(_shipped.Version, (await PredictAsync(client)).Version);

            WriteModelDirectory(settingsFile, alternative.Path);
            await Poll.UntilAsync(() => VersionAsync(client), v => v == _alternative.Version, Deadline, "the model of the new Model:Directory to be served");
            Assert.Equal(_alternative.Version, (await PredictAsync(client)).Version);
            Assert.Equal("Healthy", await ModelHealthAsync(client));

            // The new folder is watched in turn.
            alternative.ReplaceWith(TestFiles.ShippedModel);
            await Poll.UntilAsync(() => VersionAsync(client), v => v == _shipped.Version, Deadline, "a change in the new folder to be served");
        }
        finally
        {
            Directory.Delete(settings, recursive: true);
        }
    }

    private static void WriteModelDirectory(string file, string directory)
    {
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(new { Model = new { Directory = directory } }));
        File.Move(file + ".tmp", file, overwrite: true);
    }

    private static async Task<string?> VersionAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString();

    private static async Task<string?> ModelHealthAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/health/ready")).GetProperty("checks").GetProperty("model").GetProperty("status").GetString();

    private static async Task<(string? Version, float Probability)> PredictAsync(HttpClient client)
    {
        var response = await client.PostAsJsonAsync("/v1/predictions", new { flights = new[] { new { features = Latam } } });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        return (body.GetProperty("modelVersion").GetString(), body.GetProperty("predictions")[0].GetProperty("probability").GetSingle());
    }

    public void Dispose() => _folder.Dispose();
}
