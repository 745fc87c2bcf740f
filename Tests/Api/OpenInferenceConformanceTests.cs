using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Tests.Support;

// The Open Inference Protocol's REST conformance, clause by clause, from its specification
// (kserve/open-inference-protocol, specification/protocol/inference_rest.md, with open_inference_rest.yaml and the gRPC
// messages where the REST text is silent or has a typo). Each test names the clause it checks.
namespace FlightDelay.Tests.Api.OpenInferenceConformance;

/// <summary>Requests and answers shared by the conformance classes.</summary>
internal static class V2
{
    public const string Model = "/v2/models/flight-delay";

    /// <summary>The spec's tensor data types (Tensor Data Types table).</summary>
    public static readonly string[] Datatypes = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"];

    public static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static StringContent Json(object body) => Json(JsonSerializer.Serialize(body));

    /// <summary>An <c>$inference_request</c> for <paramref name="rows"/>, flat row-major, with the extra members given.</summary>
    public static Dictionary<string, object?> Request(IEnumerable<float[]> rows, object? data = null)
    {
        var list = rows.ToList();
        return new()
        {
            ["inputs"] = new[] { new { name = "features", shape = new[] { list.Count, 37 }, datatype = "FP32", data = data ?? list.SelectMany(r => r) } },
        };
    }

    /// <summary>Reads a 200 <c>application/json</c> answer.</summary>
    public static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static string[] Members(JsonElement element) => [.. element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    public static long[] Shape(JsonElement tensor) => [.. tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];

    public static async Task<string> ModelVersionAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString()!;

    public static readonly float[] Latam = TestFiles.Encode("Grupo LATAM", "I", 7);
    public static readonly float[] Sky = TestFiles.Encode("Sky Airline", "N", 3);
    public static readonly float[] Iberia = TestFiles.Encode("Iberia", "I", 12);
}

/// <summary>Health: server live, server ready, model ready (with and without a version).</summary>
public class OpenInferenceHealthConformanceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Server_live_is_200_with_live_true_and_nothing_else()
    {
        // $live_server_response = { "live": $bool }
        var body = await V2.OkAsync(await _client.GetAsync("/v2/health/live"));

        Assert.Equal(["live"], V2.Members(body));
        Assert.True(body.GetProperty("live").GetBoolean());
    }

    [Fact]
    public async Task Server_ready_is_200_with_ready_true()
    {
        // The REST text's $ready_server_response repeats "live" by a copy slip; the gRPC ServerReadyResponse and every
        // server (KServe, Triton, MLServer) name it "ready".
        var body = await V2.OkAsync(await _client.GetAsync("/v2/health/ready"));

        Assert.Equal(["ready"], V2.Members(body));
        Assert.True(body.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task Model_ready_names_the_model_and_says_ready_on_both_routes()
    {
        // $ready_model_response = { "name": $string, "ready": $bool }; GET v2/models/<name>[/versions/<version>]/ready
        var version = await V2.ModelVersionAsync(_client);

        foreach (var path in new[] { $"{V2.Model}/ready", $"{V2.Model}/versions/{version}/ready" })
        {
            var body = await V2.OkAsync(await _client.GetAsync(path));
            Assert.Equal(["name", "ready"], V2.Members(body));
            Assert.Equal("flight-delay", body.GetProperty("name").GetString());
            Assert.True(body.GetProperty("ready").GetBoolean());
        }
    }
}

/// <summary>Server metadata: <c>GET v2</c>.</summary>
public class OpenInferenceServerMetadataConformanceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v2")]
    [InlineData("/v2/")] // the protocol's OpenAPI document writes the path with the slash
    public async Task Server_metadata_has_name_version_and_the_extensions_the_server_supports(string path)
    {
        // $metadata_server_response = { "name": $string, "version": $string, "extensions": [$string, ...] }
        var body = await V2.OkAsync(await _client.GetAsync(path));

        Assert.Equal(["extensions", "name", "version"], V2.Members(body));
        Assert.Equal("flightdelay", body.GetProperty("name").GetString());
        var expectedVersion = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;
        Assert.Equal(expectedVersion, body.GetProperty("version").GetString());
        // Exactly the one extension the server implements: Triton's binary tensor data (no shared memory, no classification).
        Assert.Equal(["binary_tensor_data"], body.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }
}

/// <summary>Model metadata: <c>GET v2/models/&lt;name&gt;[/versions/&lt;version&gt;]</c>.</summary>
public class OpenInferenceModelMetadataConformanceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Model_metadata_has_name_versions_platform_and_tensor_metadata_on_both_routes()
    {
        var version = await V2.ModelVersionAsync(_client);

        foreach (var path in new[] { V2.Model, $"{V2.Model}/versions/{version}" })
        {
            // $metadata_model_response = { "name", "versions", "platform", "inputs": [$metadata_tensor], "outputs": [$metadata_tensor] }
            var body = await V2.OkAsync(await _client.GetAsync(path));
            Assert.Equal(["inputs", "name", "outputs", "platform", "versions"], V2.Members(body));
            Assert.Equal("flight-delay", body.GetProperty("name").GetString());
            // "versions": the versions that may be explicitly requested via the versioned routes.
            Assert.Equal([version], body.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
            // Platforms: "<project>_<format>".
            var platform = body.GetProperty("platform").GetString()!;
            Assert.Equal("mlnet_zip", platform);
            Assert.Matches(new Regex("^[a-z0-9]+_[a-z0-9]+$"), platform);

            // $metadata_tensor = { "name", "datatype" (from the Tensor Data Types table), "shape" (variable dimensions -1) }
            var input = Assert.Single(body.GetProperty("inputs").EnumerateArray());
            Assert.Equal(["datatype", "name", "shape"], V2.Members(input));
            Assert.Equal("features", input.GetProperty("name").GetString());
            Assert.Equal("FP32", input.GetProperty("datatype").GetString());
            Assert.Equal([-1L, 37L], V2.Shape(input));

            var outputs = body.GetProperty("outputs").EnumerateArray().ToArray();
            Assert.All(outputs, o => Assert.Equal(["datatype", "name", "shape"], V2.Members(o)));
            Assert.All(outputs, o => Assert.Contains(o.GetProperty("datatype").GetString(), V2.Datatypes));
            Assert.Equal(["label", "probability"], outputs.Select(o => o.GetProperty("name").GetString()));
            Assert.Equal(["INT64", "FP32"], outputs.Select(o => o.GetProperty("datatype").GetString()));
            Assert.All(outputs, o => Assert.Equal([-1L, 1L], V2.Shape(o)));
        }
    }

    [Fact]
    public async Task Every_version_listed_is_requestable_and_an_unlisted_one_is_an_error()
    {
        var metadata = await V2.OkAsync(await _client.GetAsync(V2.Model));

        foreach (var version in metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()))
        {
            Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"{V2.Model}/versions/{version}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"{V2.Model}/versions/{version}/ready")).StatusCode);
        }
        var error = await V2Error.ReadAsync(await _client.GetAsync($"{V2.Model}/versions/not-a-version"), HttpStatusCode.NotFound);
        Assert.Contains("not-a-version", error.Detail);
    }
}

/// <summary>Inference: <c>POST v2/models/&lt;name&gt;[/versions/&lt;version&gt;]/infer</c>, request and response objects.</summary>
public class OpenInferenceInferenceConformanceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonElement> InferAsync(object request, string path = $"{V2.Model}/infer") =>
        await V2.OkAsync(await _client.PostAsync(path, V2.Json(request)));

    private async Task<(long Label, float Probability)[]> V1Async(params float[][] rows)
    {
        var response = await _client.PostAsJsonAsync("/v1/predictions", new { flights = rows.Select(f => new { features = f }) });
        return [.. (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray()
            .Select(p => ((long)p.GetProperty("label").GetInt32(), p.GetProperty("probability").GetSingle()))];
    }

    [Fact]
    public async Task The_response_has_model_name_version_the_request_id_and_every_output_when_none_is_requested()
    {
        var version = await V2.ModelVersionAsync(_client);
        var request = V2.Request([V2.Latam, V2.Sky, V2.Iberia]);
        request["id"] = "42"; // the specification's example id

        var body = await InferAsync(request);

        // $inference_response = { "model_name", "model_version" #optional, "id", "parameters" #optional, "outputs" }
        Assert.Equal(["id", "model_name", "model_version", "outputs"], V2.Members(body));
        Assert.Equal("flight-delay", body.GetProperty("model_name").GetString());
        Assert.Equal(version, body.GetProperty("model_version").GetString());
        // "id": if specified, this identifier must be returned in the response.
        Assert.Equal("42", body.GetProperty("id").GetString());
        // "outputs" not specified: all outputs produced by the model are returned.
        var outputs = body.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(["label", "probability"], outputs.Select(o => o.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task Each_response_output_has_name_shape_datatype_and_row_major_data_of_the_shapes_size()
    {
        var rows = new[] { V2.Latam, V2.Sky, V2.Iberia };
        var expected = await V1Async(rows);

        var body = await InferAsync(V2.Request(rows));

        // $response_output = { "name", "shape", "datatype", "parameters" #optional, "data" }; a batched output's shape
        // is the whole batch's, and "data" holds shape[0] * shape[1] elements.
        foreach (var output in body.GetProperty("outputs").EnumerateArray())
        {
            Assert.Equal(["data", "datatype", "name", "shape"], V2.Members(output));
            Assert.Equal([3L, 1L], V2.Shape(output));
            Assert.Equal(3, output.GetProperty("data").GetArrayLength());
        }
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal("INT64", outputs["label"].GetProperty("datatype").GetString());
        Assert.Equal("FP32", outputs["probability"].GetProperty("datatype").GetString());
        Assert.Equal(expected.Select(e => e.Label), outputs["label"].GetProperty("data").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(expected.Select(e => e.Probability), outputs["probability"].GetProperty("data").EnumerateArray().Select(d => d.GetSingle()));
    }

    [Fact]
    public async Task Flat_data_is_read_row_major_so_row_i_is_elements_37i_to_37i_plus_36()
    {
        // Tensor Data: row-major, "linear" order without stride or padding, flattened or in the natural nested form.
        var expected = await V1Async(V2.Latam, V2.Sky);
        Assert.NotEqual(expected[0].Probability, expected[1].Probability); // else swapping rows would prove nothing

        var flat = await InferAsync(V2.Request([V2.Latam, V2.Sky]));
        var nested = await InferAsync(V2.Request([V2.Latam, V2.Sky], data: new[] { V2.Latam, V2.Sky }));
        var swapped = await InferAsync(V2.Request([V2.Sky, V2.Latam]));

        float[] Probabilities(JsonElement body) => [.. body.GetProperty("outputs")[1].GetProperty("data").EnumerateArray().Select(d => d.GetSingle())];
        Assert.Equal(expected.Select(e => e.Probability), Probabilities(flat));
        Assert.Equal(Probabilities(flat), Probabilities(nested));
        Assert.Equal(Probabilities(flat).Reverse(), Probabilities(swapped));
    }

    [Fact]
    public async Task Requested_outputs_are_the_only_ones_returned_in_the_order_asked()
    {
        var request = V2.Request([V2.Latam]);
        request["outputs"] = new[] { new { name = "probability" }, new { name = "label" } };

        var both = await InferAsync(request);
        request["outputs"] = new[] { new { name = "label" } };
        var one = await InferAsync(request);

        Assert.Equal(["probability", "label"], both.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        Assert.Equal("label", Assert.Single(one.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Server_specific_parameters_of_string_number_and_boolean_are_accepted_on_the_request_input_and_output()
    {
        // $parameters = { $parameter, ... }; $parameter = $string : $string | $number | $boolean; no standard ones are defined.
        var body = $$$"""
            {"id": "p", "parameters": {"priority": 1, "tag": "nightly", "trace": true, "ratio": 0.5},
             "inputs": [{"name": "features", "shape": [1, 37], "datatype": "FP32", "parameters": {"note": "x"}, "data": [{{{string.Join(",", V2.Latam)}}}]}],
             "outputs": [{"name": "label", "parameters": {"binary_data": false}}]}
            """;

        var answer = await V2.OkAsync(await _client.PostAsync($"{V2.Model}/infer", V2.Json(body)));

        Assert.Equal("p", answer.GetProperty("id").GetString());
        Assert.Equal("label", Assert.Single(answer.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("""{"parameters": {"priority": {"level": 1}}, "inputs": [INPUT]}""", "'priority'")]
    [InlineData("""{"parameters": {"tags": ["a"]}, "inputs": [INPUT]}""", "'tags'")]
    [InlineData("""{"parameters": {"none": null}, "inputs": [INPUT]}""", "'none'")]
    [InlineData("""{"inputs": [{"name": "features", "shape": [1, 37], "datatype": "FP32", "parameters": {"scale": [1]}, "data": DATA}]}""", "'scale'")]
    [InlineData("""{"inputs": [INPUT], "outputs": [{"name": "label", "parameters": {"format": {}}}]}""", "'format'")]
    public async Task A_parameter_that_is_not_a_string_number_or_boolean_is_a_400_naming_it(string template, string name)
    {
        var data = "[" + string.Join(",", V2.Latam) + "]";
        var body = template.Replace("INPUT", $$"""{"name": "features", "shape": [1, 37], "datatype": "FP32", "data": {{data}}}""").Replace("DATA", data);

        var error = await V2Error.ReadAsync(await _client.PostAsync($"{V2.Model}/infer", V2.Json(body)), HttpStatusCode.BadRequest);

        Assert.Contains(name, error.Detail);
        Assert.Contains("string, number or boolean", error.Detail);
    }

    [Fact]
    public async Task The_versioned_route_scores_with_that_version_and_reports_it()
    {
        var version = await V2.ModelVersionAsync(_client);
        var request = V2.Request([V2.Latam]);
        request["id"] = "versioned";

        var body = await InferAsync(request, $"{V2.Model}/versions/{version}/infer");
        var unversioned = await InferAsync(request);

        Assert.Equal(version, body.GetProperty("model_version").GetString());
        Assert.Equal("versioned", body.GetProperty("id").GetString());
        Assert.Equal(unversioned.GetProperty("outputs").GetRawText(), body.GetProperty("outputs").GetRawText());
    }

    [Theory]
    [InlineData("shared_memory_region", "input", "shared-memory")]
    [InlineData("shared_memory_region", "output", "shared-memory")]
    [InlineData("classification", "output", "classification")]
    public async Task An_extension_the_server_does_not_list_is_refused_with_an_error_naming_it(string parameter, string where, string named)
    {
        var data = "[" + string.Join(",", V2.Latam) + "]";
        var value = parameter == "classification" ? "2" : "\"region0\"";
        var body = where == "input"
            ? $$$"""{"inputs": [{"name": "features", "shape": [1, 37], "datatype": "FP32", "parameters": {"{{{parameter}}}": {{{value}}}}}]}"""
            : $$$"""{"inputs": [{"name": "features", "shape": [1, 37], "datatype": "FP32", "data": {{{data}}}}], "outputs": [{"name": "label", "parameters": {"{{{parameter}}}": {{{value}}}}}]}""";

        var error = await V2Error.ReadAsync(await _client.PostAsync($"{V2.Model}/infer", V2.Json(body)), HttpStatusCode.BadRequest);

        Assert.Contains(named, error.Detail);
        Assert.Contains("not supported", error.Detail);
    }

    [Theory]
    [InlineData("UINT8")]
    [InlineData("FP16")]
    [InlineData("BYTES")]
    public async Task A_datatype_of_the_spec_that_the_model_does_not_take_is_a_400_listing_the_ones_it_does(string datatype)
    {
        // Tensor Data: "The server can decide to coerce each element to the required type or return an error".
        var body = $$"""{"inputs": [{"name": "features", "shape": [1, 37], "datatype": "{{datatype}}", "data": [{{string.Join(",", V2.Latam)}}]}]}""";

        var error = await V2Error.ReadAsync(await _client.PostAsync($"{V2.Model}/infer", V2.Json(body)), HttpStatusCode.BadRequest);

        Assert.Contains($"'{datatype}'", error.Detail);
        Assert.Contains("FP32, FP64, INT64, INT32, BOOL", error.Detail);
    }
}

/// <summary>
/// Errors: "A failed ... request must be indicated by an HTTP error status (typically 400). The HTTP body must contain
/// the ... error response object", <c>{"error": $string}</c>, which the protocol's OpenAPI declares as <c>application/json</c>.
/// That holds for every failure under <c>/v2</c>, not only the ones the handlers write.
/// </summary>
public class OpenInferenceErrorConformanceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v2/models/other")]
    [InlineData("/v2/models/other/ready")]
    [InlineData("/v2/models/other/versions/1")]
    [InlineData("/v2/models/other/versions/1/ready")]
    public async Task An_unknown_model_is_404_with_an_error_object(string path)
    {
        var error = await V2Error.ReadAsync(await _client.GetAsync(path), HttpStatusCode.NotFound);

        Assert.Contains("'other'", error.Detail);
    }

    [Fact]
    public async Task An_invalid_inference_request_is_400_with_an_error_object()
    {
        var error = await V2Error.ReadAsync(await _client.PostAsync($"{V2.Model}/infer", V2.Json("{\"inputs\": []}")), HttpStatusCode.BadRequest);

        Assert.Contains("'inputs'", error.Detail);
    }

    [Theory]
    [InlineData("GET", "/v2/models/flight-delay/infer", "POST")]
    [InlineData("POST", "/v2/health/live", "GET")]
    [InlineData("DELETE", "/v2/models/flight-delay", "GET")]
    public async Task A_wrong_method_is_405_with_an_error_object_and_an_allow_header(string method, string path, string allowed)
    {
        var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var error = await V2Error.ReadAsync(response, HttpStatusCode.MethodNotAllowed);
        Assert.Contains(allowed, response.Content.Headers.Allow);
        Assert.Contains(method, error.Detail);
        Assert.Contains(allowed, error.Detail);
    }

    [Theory]
    [InlineData("/v2/models/flight-delay/explain")]
    [InlineData("/v2/repository/index")]
    public async Task A_path_the_protocol_does_not_define_here_is_404_with_an_error_object(string path)
    {
        var error = await V2Error.ReadAsync(await _client.GetAsync(path), HttpStatusCode.NotFound);

        Assert.Contains(path, error.Detail);
    }

    [Fact]
    public async Task An_unsupported_content_coding_is_415_with_an_error_object_naming_the_supported_ones()
    {
        var content = V2.Json(V2.Request([V2.Latam]));
        content.Headers.ContentEncoding.Add("compress");

        var response = await _client.PostAsync($"{V2.Model}/infer", content);

        var error = await V2Error.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("gzip, deflate, br", error.Detail);
    }

    [Fact]
    public async Task The_v1_routes_keep_their_problem_details()
    {
        // The protocol's error shape is for /v2 only; the rest of the API answers RFC 9457 problems.
        await Problem.ReadAsync(await _client.GetAsync($"/v1/jobs/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
    }
}

/// <summary>Errors written before a handler runs (authentication, rate limiting) are the protocol's too.</summary>
public class OpenInferenceGuardedErrorConformanceTests : IAsyncLifetime
{
    private const string Key = "fd_v2-conformance-key-0123456789ab";
    private readonly ApiFactory _factory = new ApiFactory()
        .With("ApiKeys:Keys:0:Id", "kserve-client")
        .With("ApiKeys:Keys:0:Hash", ApiFactory.KeyHash(Key))
        .With("RateLimiting:RequestsPerSecond", "1")
        .With("RateLimiting:Burst", "1");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task A_missing_api_key_is_401_with_an_error_object()
    {
        var response = await _factory.CreateClient().GetAsync(V2.Model);

        var error = await V2Error.ReadAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("X-Api-Key", error.Detail);
        Assert.NotEmpty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task Over_the_rate_limit_is_429_with_an_error_object_and_retry_after()
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", Key);

        // A burst of one a second: within a handful of back-to-back requests one is refused.
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 10 && refused is null; i++)
        {
            var response = await client.GetAsync(V2.Model);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
        }

        Assert.NotNull(refused);
        var error = await V2Error.ReadAsync(refused, HttpStatusCode.TooManyRequests);
        Assert.Contains("retry", error.Detail);
        Assert.NotNull(refused.Headers.RetryAfter);
    }
}
