using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Api;

/// <summary>The model registry's routes in the embedded default (SQLite): listing, promotion and its gate, admin keys, naming a version.</summary>
public sealed class ModelRegistryTests : IDisposable
{
    private const string ClientKey = "client-key-for-the-registry-tests";
    private const string AdminKey = "admin-key-for-the-registry-tests";
    private static readonly float[] Latam = TestFiles.Encode("Grupo LATAM", "I", 7);
    private readonly FlightModel _shipped = FlightModel.Load(TestFiles.ShippedModel);
    private readonly FlightModel _alternative = AlternativeModel.Load();
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"flightdelay-registry-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task The_shipped_model_is_the_first_champion_and_is_listed_with_its_card()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();

        var list = await client.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(_shipped.Version, list.GetProperty("champion").GetString());
        Assert.Equal(JsonValueKind.Null, list.GetProperty("challenger").ValueKind);
        var only = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal("champion", only.GetProperty("role").GetString());
        Assert.Equal("folder", only.GetProperty("source").GetString());
        Assert.Equal(_shipped.Card.Metrics.RocAuc, only.GetProperty("card").GetProperty("metrics").GetProperty("rocAuc").GetDouble());

        var one = await client.GetFromJsonAsync<JsonElement>($"/v1/models/{_shipped.Version}");
        Assert.Equal($"/v1/models/{_shipped.Version}/promote", one.GetProperty("links").GetProperty("promote").GetString());
        await Problem.ReadAsync(await client.GetAsync("/v1/models/m-000000000000"), HttpStatusCode.NotFound);
        await Problem.ReadAsync(await client.PostAsync("/v1/models/m-000000000000/promote", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_version_below_the_champion_is_refused_with_the_figures_and_promoted_when_forced()
    {
        await using var factory = new ApiFactory().With("Model:PromotionTolerance", "0");
        using var client = factory.CreateClient();
        await RegisterAlternativeAsync(factory);
        var (weaker, stronger) = _alternative.Card.Metrics.RocAuc < _shipped.Card.Metrics.RocAuc ? (_alternative, _shipped) : (_shipped, _alternative);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/v1/models/{stronger.Version}/promote", null)).StatusCode);

        var refused = await Problem.ReadAsync(await client.PostAsync($"/v1/models/{weaker.Version}/promote", null), HttpStatusCode.Conflict);
        Assert.Equal(weaker.Card.Metrics.RocAuc, refused.Root.GetProperty("rocAuc").GetDouble());
        Assert.Equal(stronger.Card.Metrics.RocAuc, refused.Root.GetProperty("championRocAuc").GetDouble());
        Assert.Equal(stronger.Version, refused.Root.GetProperty("champion").GetString());
        Assert.Contains("force=true", refused.Detail);
        Assert.Equal(stronger.Version, await ChampionAsync(client));

        var forced = await client.PostAsync($"/v1/models/{weaker.Version}/promote?force=true", null);
        Assert.Equal(HttpStatusCode.OK, forced.StatusCode);
        Assert.Equal("champion", (await forced.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
        Assert.Equal(weaker.Version, await ChampionAsync(client));
        Assert.Equal(weaker.Version, (await client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString());
        var answer = await PredictAsync(client, "/v1/predictions");
        Assert.Equal(weaker.Version, answer.GetProperty("modelVersion").GetString());
        Assert.Equal(weaker.Predict(Latam).Probability, answer.GetProperty("predictions")[0].GetProperty("probability").GetSingle(), 5);
        var roles = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("items").EnumerateArray()
            .ToDictionary(m => m.GetProperty("version").GetString()!, m => m.GetProperty("role").GetString());
        Assert.Equal(new Dictionary<string, string?> { [weaker.Version] = "champion", [stronger.Version] = null }, roles);
    }

    [Fact]
    public async Task Only_an_admin_key_may_promote()
    {
        await using var factory = new ApiFactory()
            .With("ApiKeys:Keys:0:Id", "client").With("ApiKeys:Keys:0:Hash", ApiFactory.KeyHash(ClientKey))
            .With("ApiKeys:Keys:1:Id", "ops").With("ApiKeys:Keys:1:Hash", ApiFactory.KeyHash(AdminKey)).With("ApiKeys:Keys:1:Admin", "true");
        using var client = factory.CreateClient();
        await RegisterAlternativeAsync(factory);
        var promote = $"/v1/models/{_alternative.Version}/promote?force=true";

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsync(promote, null)).StatusCode);
        var forbidden = await Problem.ReadAsync(await SendAsync(client, HttpMethod.Post, promote, ClientKey), HttpStatusCode.Forbidden);
        Assert.Contains("client", forbidden.Detail);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Get, "/v1/models", ClientKey)).StatusCode); // reading is any key's
        Assert.Equal(_shipped.Version, (await (await SendAsync(client, HttpMethod.Get, "/v1/model", ClientKey)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString());

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, HttpMethod.Post, promote, AdminKey)).StatusCode);
        Assert.Equal(_alternative.Version, (await (await SendAsync(client, HttpMethod.Get, "/v1/model", ClientKey)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetString());
    }

    [Fact]
    public async Task Sync_routes_score_with_a_named_version_and_refuse_an_unknown_one_listing_the_registered()
    {
        await using var factory = new ApiFactory();
        using var client = factory.CreateClient();
        await RegisterAlternativeAsync(factory);

        var named = await PredictAsync(client, $"/v1/predictions?model={_alternative.Version}");
        Assert.Equal(_alternative.Version, named.GetProperty("modelVersion").GetString());
        Assert.Equal(_alternative.Predict(Latam).Probability, named.GetProperty("predictions")[0].GetProperty("probability").GetSingle(), 5);
        Assert.Equal(_shipped.Version, (await PredictAsync(client, "/v1/predictions")).GetProperty("modelVersion").GetString());

        foreach (var unknown in (string[])["m-000000000000", new string('x', 100)])
        {
            var response = await client.PostAsJsonAsync($"/v1/predictions?model={unknown}", new { flights = new[] { new { airline = "Grupo LATAM", flightType = "I", month = 7 } } });
            var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal([_alternative.Version, _shipped.Version], problem.Root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        }
        using var job = JobApi.Body(JobApi.Csv(JobApi.Flights(5)), "text/csv");
        await Problem.ReadAsync(await client.PostAsync("/v1/jobs?model=m-000000000000", job), HttpStatusCode.BadRequest);

        // The Open Inference Protocol's versioned routes serve every registered version.
        var v2 = await client.PostAsJsonAsync($"/v2/models/flight-delay/versions/{_alternative.Version}/infer", new
        {
            inputs = new[] { new { name = "features", shape = new[] { 1, 37 }, datatype = "FP32", data = Latam } },
        });
        var inferred = await v2.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(_alternative.Version, inferred.GetProperty("model_version").GetString());
        var metadata = await client.GetFromJsonAsync<JsonElement>("/v2/models/flight-delay");
        Assert.Equal([_alternative.Version, _shipped.Version], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
    }

    [Fact]
    public async Task A_model_new_to_the_registry_in_the_folder_is_deployed_and_a_restart_with_a_known_one_keeps_the_champion()
    {
        using var shipped = ModelFolder.CopyOfShipped();
        using var alternative = ModelFolder.CopyOf(AlternativeModel.Path);
        foreach (var (folder, expected) in new[] { (shipped, _shipped.Version), (alternative, _alternative.Version), (shipped, _alternative.Version) })
        {
            await using var factory = Factory(folder);
            using var client = factory.CreateClient();
            await Poll.UntilAsync(() => ChampionAsync(client), v => v == expected, JobApi.Deadline, $"{expected} to be the registry's champion");
            await Poll.UntilAsync(() => ServedAsync(client), v => v == expected, JobApi.Deadline, $"{expected} to be served");
        }
    }

    private ApiFactory Factory(ModelFolder folder) =>
        new ApiFactory().With("ConnectionStrings:Sqlite", $"Data Source={_database}").With("Model:Directory", folder.Path);

    private async Task RegisterAlternativeAsync(ApiFactory factory) =>
        Assert.True(await factory.Services.GetRequiredService<ModelRegistry>().RegisterAsync(_alternative, "train", CancellationToken.None));

    private static async Task<string?> ChampionAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("champion").GetString();

    private static async Task<string?> ServedAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString();

    private static async Task<JsonElement> PredictAsync(HttpClient client, string path)
    {
        var response = await client.PostAsJsonAsync(path, new { flights = new[] { new { airline = "Grupo LATAM", flightType = "I", month = 7 } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string key)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", key);
        return client.SendAsync(request);
    }


    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_database) + "*")) File.Delete(file);
    }
}
