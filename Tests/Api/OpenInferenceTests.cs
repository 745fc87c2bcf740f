using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>The Open Inference Protocol (KServe V2 / Triton REST) endpoints under <c>/v2</c>.</summary>
public class OpenInferenceTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const string Model = "/v2/models/flight-delay";
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Health_endpoints_answer_200_with_the_protocol_bodies()
    {
        var live = await _client.GetAsync("/v2/health/live");
        var ready = await _client.GetAsync("/v2/health/ready");
        var modelReady = await _client.GetAsync($"{Model}/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.True((await live.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("live").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.True((await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ready").GetBoolean());
        Assert.Equal(HttpStatusCode.OK, modelReady.StatusCode);
        var body = await modelReady.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("flight-delay", body.GetProperty("name").GetString());
        Assert.True(body.GetProperty("ready").GetBoolean());
    }

    [Fact]
    public async Task Server_metadata_names_the_server_and_its_extensions()
    {
        var metadata = await _client.GetFromJsonAsync<JsonElement>("/v2");

        Assert.Equal("flightdelay", metadata.GetProperty("name").GetString());
        Assert.False(string.IsNullOrEmpty(metadata.GetProperty("version").GetString()));
        Assert.Contains("binary_tensor_data", metadata.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Model_metadata_describes_the_input_and_outputs_with_the_model_version()
    {
        var version = await ModelVersionAsync();

        var metadata = await _client.GetFromJsonAsync<JsonElement>(Model);

        Assert.Equal("flight-delay", metadata.GetProperty("name").GetString());
        Assert.Equal([version], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        // <project>_<format>, as the protocol's platform names are (onnxruntime_onnx, tensorflow_savedmodel).
        Assert.Equal("mlnet_zip", metadata.GetProperty("platform").GetString());
        var input = Assert.Single(metadata.GetProperty("inputs").EnumerateArray());
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1, 37], input.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        var outputs = metadata.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal("INT64", outputs["label"].GetProperty("datatype").GetString());
        Assert.Equal("FP32", outputs["probability"].GetProperty("datatype").GetString());
        Assert.Equal([-1, 1], outputs["probability"].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));

        var versioned = await _client.GetFromJsonAsync<JsonElement>($"{Model}/versions/{version}");
        Assert.Equal("flight-delay", versioned.GetProperty("name").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"{Model}/versions/{version}/ready")).StatusCode);
    }

    [Theory]
    [InlineData("/v2/models/flight_delay")]
    [InlineData("/v2/models/Flight-Delay/ready")]
    [InlineData("/v2/models/flight-delay/versions/m-000000000000")]
    [InlineData("/v2/models/flight-delay/versions/1/ready")]
    public async Task Unknown_models_and_versions_are_404_with_an_error_member(string path)
    {
        var response = await _client.GetAsync(path);

        var problem = await V2Error.ReadAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(problem.Detail, problem.Root.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Infer_agrees_with_v1_predictions_and_echoes_the_id()
    {
        var rows = new[] { TestFiles.Encode("Grupo LATAM", "I", 7), TestFiles.Encode("Sky Airline", "N", 3), TestFiles.Encode("Iberia", "I", 12) };
        var v1 = await _client.PostAsJsonAsync("/v1/predictions", new { flights = rows.Select(f => new { features = f }) });
        var expected = (await v1.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray().ToArray();

        var response = await PostJsonAsync($"{Model}/infer", new
        {
            id = "request-42",
            inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { rows.Length, 37 }, data = rows.SelectMany(r => r) } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("flight-delay", body.GetProperty("model_name").GetString());
        Assert.Equal(await ModelVersionAsync(), body.GetProperty("model_version").GetString());
        Assert.Equal("request-42", body.GetProperty("id").GetString());
        var outputs = body.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal(["label", "probability"], outputs.Keys);
        Assert.Equal("INT64", outputs["label"].GetProperty("datatype").GetString());
        Assert.Equal([3, 1], outputs["label"].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal("FP32", outputs["probability"].GetProperty("datatype").GetString());
        Assert.Equal([3, 1], outputs["probability"].GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(expected.Select(p => (long)p.GetProperty("label").GetInt32()), outputs["label"].GetProperty("data").EnumerateArray().Select(d => d.GetInt64()));
        Assert.Equal(expected.Select(p => p.GetProperty("probability").GetSingle()), outputs["probability"].GetProperty("data").EnumerateArray().Select(d => d.GetSingle()));
    }

    [Fact]
    public async Task Nested_rows_one_row_and_a_requested_output_are_answered_as_asked()
    {
        var row = TestFiles.Encode("Grupo LATAM", "I", 7);
        var v1 = await _client.PostAsJsonAsync("/v1/predictions", new { flights = new[] { new { features = row } } });
        var expected = (await v1.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions")[0];

        var version = await ModelVersionAsync();
        var response = await PostJsonAsync($"{Model}/versions/{version}/infer", new
        {
            inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { 1, 37 }, data = new[] { row } } },
            outputs = new[] { new { name = "probability" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrEmpty(body.GetProperty("id").GetString()));
        var output = Assert.Single(body.GetProperty("outputs").EnumerateArray());
        Assert.Equal("probability", output.GetProperty("name").GetString());
        Assert.Equal(expected.GetProperty("probability").GetSingle(), Assert.Single(output.GetProperty("data").EnumerateArray()).GetSingle());
    }

    [Fact]
    public async Task A_batch_agrees_with_the_seed_model()
    {
        var rows = TestFiles.TestRows.Take(2000).ToArray();

        var response = await PostJsonAsync($"{Model}/infer", new
        {
            inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { rows.Length, 37 }, data = rows.Select(r => r.Features) } },
            outputs = new[] { new { name = "label" } },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var labels = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(l => l.GetInt64()).ToArray();
        Assert.Equal(rows.Length, labels.Length);
        var agree = rows.Where((r, i) => SeedModel.Instance.Predict(r.Features) == (labels[i] == 1)).Count();
        Assert.True(agree >= rows.Length - 3, $"{agree} of {rows.Length}");
    }

    [Fact]
    public async Task Binary_tensor_data_in_and_out_as_tritonclient_sends_it_by_default()
    {
        var rows = new[] { TestFiles.Encode("Grupo LATAM", "I", 7), TestFiles.Encode("Sky Airline", "N", 3) };
        var v1 = await _client.PostAsJsonAsync("/v1/predictions", new { flights = rows.Select(f => new { features = f }) });
        var expected = (await v1.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("predictions").EnumerateArray().ToArray();

        var floats = rows.SelectMany(r => r).ToArray();
        var header = JsonSerializer.SerializeToUtf8Bytes(new
        {
            inputs = new[] { new { name = "features", shape = new[] { 2, 37 }, datatype = "FP32", parameters = new { binary_data_size = floats.Length * 4 } } },
            parameters = new { binary_data_output = true },
        });
        using var content = new ByteArrayContent([.. header, .. MemoryMarshal.AsBytes(floats.AsSpan()).ToArray()]);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(CultureInfo.InvariantCulture));

        var response = await _client.PostAsync($"{Model}/infer", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var jsonLength = int.Parse(response.Headers.GetValues("Inference-Header-Content-Length").Single(), CultureInfo.InvariantCulture);
        var json = JsonDocument.Parse(bytes.AsMemory(0, jsonLength)).RootElement;
        var outputs = json.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(["label", "probability"], outputs.Select(o => o.GetProperty("name").GetString()));
        Assert.Equal(16, outputs[0].GetProperty("parameters").GetProperty("binary_data_size").GetInt64());
        Assert.Equal(8, outputs[1].GetProperty("parameters").GetProperty("binary_data_size").GetInt64());
        Assert.Equal(jsonLength + 24, bytes.Length);
        var binary = bytes.AsSpan(jsonLength);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(expected[i].GetProperty("label").GetInt32(), BinaryPrimitives.ReadInt64LittleEndian(binary[(i * 8)..]));
            Assert.Equal(expected[i].GetProperty("probability").GetSingle(), BinaryPrimitives.ReadSingleLittleEndian(binary[(16 + i * 4)..]));
        }
    }

    /// <summary>numpy's default arrays are float64 and int64; one-hot flags are as naturally booleans.</summary>
    [Theory]
    [InlineData("FP64")]
    [InlineData("INT64")]
    [InlineData("INT32")]
    [InlineData("BOOL")]
    public async Task Features_in_any_numeric_or_boolean_datatype_score_as_fp32_in_json_and_binary(string datatype)
    {
        var row = TestFiles.Encode("Grupo LATAM", "I", 7);
        var expected = await ProbabilityAsync(new { inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { 1, 37 }, data = (object)row } } });

        object data = datatype == "BOOL" ? row.Select(f => f == 1).ToArray() : datatype.StartsWith("INT", StringComparison.Ordinal) ? row.Select(f => (long)f).ToArray() : row.Select(f => (double)f).ToArray();
        Assert.Equal(expected, await ProbabilityAsync(new { inputs = new[] { new { name = "features", datatype, shape = new[] { 1, 37 }, data } } }));

        byte[] bytes = datatype switch
        {
            "FP64" => [.. row.SelectMany(f => BitConverter.GetBytes((double)f))],
            "INT64" => [.. row.SelectMany(f => BitConverter.GetBytes((long)f))],
            "INT32" => [.. row.SelectMany(f => BitConverter.GetBytes((int)f))],
            _ => [.. row.Select(f => (byte)f)],
        };
        var header = JsonSerializer.SerializeToUtf8Bytes(new { inputs = new[] { new { name = "features", datatype, shape = new[] { 1, 37 }, parameters = new { binary_data_size = bytes.Length } } } });
        using var content = new ByteArrayContent([.. header, .. bytes]);
        content.Headers.Add("Inference-Header-Content-Length", header.Length.ToString(CultureInfo.InvariantCulture));
        var binary = await _client.PostAsync($"{Model}/infer", content);
        Assert.Equal(HttpStatusCode.OK, binary.StatusCode);
        Assert.Equal(expected, (await binary.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("outputs")[1].GetProperty("data")[0].GetSingle());
    }

    [Theory]
    [InlineData("INT64", "0.5", "INT64 elements must be whole numbers")]
    [InlineData("BOOL", "1", "BOOL elements must be true or false")]
    [InlineData("FP64", "1e308", "data[0] is 1e308; FP64 elements must be finite numbers within FP32's range")]
    public async Task An_element_its_datatype_cannot_hold_is_a_400(string datatype, string first, string expected)
    {
        var body = $$"""{"inputs": [{"name": "features", "datatype": "{{datatype}}", "shape": [1, 37], "data": [{{first}}{{string.Concat(Enumerable.Repeat(datatype == "BOOL" ? ",false" : ",0", 36))}}]}]}""";

        var error = await V2Error.ReadAsync(await _client.PostAsync($"{Model}/infer", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);

        Assert.Contains(expected, error.Detail);
    }

    private async Task<float> ProbabilityAsync(object request)
    {
        var response = await _client.PostAsJsonAsync($"{Model}/infer", request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("outputs")[1].GetProperty("data")[0].GetSingle();
    }

    [Fact]
    public async Task Predictions_are_counted_under_the_v2_path()
    {
        await PostJsonAsync($"{Model}/infer", new
        {
            inputs = new[] { new { name = "features", datatype = "FP32", shape = new[] { 1, 37 }, data = TestFiles.Encode("Iberia", "I", 3) } },
        });

        var metrics = await _client.GetStringAsync("/metrics");

        Assert.Contains("path=\"v2\"", metrics);
    }

    private const string Features = "\"name\": \"features\", \"datatype\": \"FP32\"";
    private static readonly string Row = "[" + string.Join(",", Enumerable.Repeat("0", 37)) + "]";
    private static readonly string Flat = string.Join(",", Enumerable.Repeat("0", 37));

    public static TheoryData<string, string> BadRequests => new()
    {
        { "", "empty" },
        { "{", "Invalid JSON" },
        { "null", "null" },
        { "[]", "Invalid JSON" },
        { "{}", "'inputs'" },
        { "{\"inputs\": []}", "'inputs'" },
        { "{\"inputs\": [null]}", "inputs[0] is null" },
        { $"{{\"inputs\": [{{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "Unknown input 'x'" },
        { $"{{\"inputs\": [{{\"datatype\": \"FP32\", \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "name is required" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}, {{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "received 2 inputs" },
        { $"{{\"inputs\": [{{\"name\": \"features\", \"datatype\": \"UINT8\", \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "datatype FP32, FP64, INT64, INT32, BOOL" },
        { $"{{\"inputs\": [{{\"name\": \"features\", \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "datatype FP32" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 36], \"data\": [{Flat}]}}]}}", "[1, 36]" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [37], \"data\": [{Flat}]}}]}}", "[37]" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [0, 37], \"data\": []}}]}}", "n >= 1" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [-1, 37], \"data\": [{Flat}]}}]}}", "n >= 1" },
        { $"{{\"inputs\": [{{{Features}, \"data\": [{Flat}]}}]}}", "no shape" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1.5, 37], \"data\": [{Flat}]}}]}}", "Invalid JSON at $.inputs[0].shape" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": \"1,37\", \"data\": [{Flat}]}}]}}", "Invalid JSON" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [2, 37], \"data\": [{Flat}]}}]}}", "holds 37 numbers; shape [2, 37] needs 74" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat},0]}}]}}", "holds 38 numbers" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37]}}]}}", "needs 'data'" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": null}}]}}", "needs 'data'" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": \"0,0\"}}]}}", "a string" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [\"0\",{Flat[2..]}]}}]}}", "data[0] is a string" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [NaN,{Flat[2..]}]}}]}}", "Invalid JSON" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [1e39,{Flat[2..]}]}}]}}", "data[0] is 1e39; FP32 elements must be finite numbers" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [1e400,{Flat[2..]}]}}]}}", "data[0]" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [true,{Flat[2..]}]}}]}}", "a boolean" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [2, 37], \"data\": [{Row}, [0,0]]}}]}}", "data[1] has 2 numbers" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [2, 37], \"data\": [{Row}, {Flat}]}}]}}", "not mixed" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [[{Row}]]}}]}}", "data[0][0] is an array" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"outputs\": [{{\"name\": \"score\"}}]}}", "Unknown output 'score'" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"outputs\": [{{\"name\": \"label\"}}, {{\"name\": \"label\"}}]}}", "more than once" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"outputs\": [{{\"name\": \"label\", \"parameters\": {{\"classification\": 2}}}}]}}", "classification" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"outputs\": [{{\"name\": \"label\", \"parameters\": {{\"binary_data\": \"yes\"}}}}]}}", "true or false" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"parameters\": {{\"binary_data_output\": 1}}}}", "true or false" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"parameters\": {{\"shared_memory_region\": \"r\"}}}}]}}", "shared-memory" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"parameters\": {{\"binary_data_size\": 148}}}}]}}", "Inference-Header-Content-Length" },
        { $"{{\"id\": 42, \"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", "Invalid JSON at $.id" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}], \"inputs\": []}}", "Invalid JSON" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}} {{}}", "Unexpected content" },
        { $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}} trailing", "binary tensor data needs the Inference-Header-Content-Length header" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Client_mistakes_are_400_with_an_error_member_naming_the_problem(string body, string expected)
    {
        var response = await _client.PostAsync($"{Model}/infer", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await V2Error.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.Detail);
        Assert.Equal(problem.Detail, problem.Root.GetProperty("error").GetString());
    }

    public static TheoryData<string, int, string> BadBinaryRequests => new()
    {
        // the JSON object, the binary bytes sent after it, the expected message
        { "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"parameters\": {\"binary_data_size\": 100}}]}", 148, "needs 148" },
        { "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"parameters\": {\"binary_data_size\": 148}}]}", 140, "140 bytes of binary tensor data" },
        { "{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"data\": [0], \"parameters\": {\"binary_data_size\": 148}}]}", 148, "both 'data' and 'binary_data_size'" },
        { $"{{\"inputs\": [{{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"data\": [{Flat}]}}]}}", 8, "no input declares 'binary_data_size'" },
    };

    [Theory]
    [MemberData(nameof(BadBinaryRequests))]
    public async Task Binary_tensor_data_that_does_not_match_its_header_is_400(string header, int binaryBytes, string expected)
    {
        var json = Encoding.UTF8.GetBytes(header);
        using var content = new ByteArrayContent([.. json, .. new byte[binaryBytes]]);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));

        var response = await _client.PostAsync($"{Model}/infer", content);

        var problem = await V2Error.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.Detail);
    }

    [Fact]
    public async Task Non_finite_binary_values_and_bad_header_lengths_are_400()
    {
        var json = Encoding.UTF8.GetBytes("{\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [1, 37], \"parameters\": {\"binary_data_size\": 148}}]}");
        var floats = new float[37];
        floats[5] = float.NaN;
        using var nan = new ByteArrayContent([.. json, .. MemoryMarshal.AsBytes(floats.AsSpan()).ToArray()]);
        nan.Headers.Add("Inference-Header-Content-Length", json.Length.ToString(CultureInfo.InvariantCulture));
        using var tooLong = new ByteArrayContent(json);
        tooLong.Headers.Add("Inference-Header-Content-Length", "100000");
        using var notANumber = new ByteArrayContent(json);
        notANumber.Headers.Add("Inference-Header-Content-Length", "abc");

        Assert.Contains("feature 5", (await V2Error.ReadAsync(await _client.PostAsync($"{Model}/infer", nan), HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("only", (await V2Error.ReadAsync(await _client.PostAsync($"{Model}/infer", tooLong), HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("whole number", (await V2Error.ReadAsync(await _client.PostAsync($"{Model}/infer", notANumber), HttpStatusCode.BadRequest)).Detail);
    }

    [Fact]
    public async Task Unknown_model_infer_is_404_and_wrong_content_type_is_415()
    {
        var body = $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}}";

        var unknown = await _client.PostAsync("/v2/models/other/infer", new StringContent(body, Encoding.UTF8, "application/json"));
        var wrongType = await _client.PostAsync($"{Model}/infer", new StringContent(body, Encoding.UTF8, "text/csv"));

        Assert.Contains("other", (await V2Error.ReadAsync(unknown, HttpStatusCode.NotFound)).Root.GetProperty("error").GetString());
        await V2Error.ReadAsync(wrongType, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task More_rows_than_the_limit_is_a_400_and_an_oversized_body_a_413()
    {
        await using var limited = new ApiFactory().With("Predictions:MaxFlightsPerRequest", "3").With("Predictions:MaxBodyBytes", "2048");
        var client = limited.CreateClient();

        var tooMany = await client.PostAsync($"{Model}/infer", new StringContent(
            $"{{\"inputs\": [{{{Features}, \"shape\": [4, 37], \"data\": [{Row},{Row},{Row},{Row}]}}]}}", Encoding.UTF8, "application/json"));
        var tooLarge = await client.PostAsync($"{Model}/infer", new StringContent(
            $"{{\"inputs\": [{{{Features}, \"shape\": [3, 37], \"data\": [{string.Join(",", Enumerable.Repeat("0.000000000000000000000000000", 111))}]}}]}}",
            Encoding.UTF8, "application/json"));

        Assert.Contains("At most 3 rows", (await V2Error.ReadAsync(tooMany, HttpStatusCode.BadRequest)).Detail);
        await V2Error.ReadAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task With_api_keys_the_health_probes_stay_open_and_the_model_needs_a_key()
    {
        const string key = "fd_v2-test-key-0123456789abcdef";
        await using var secured = new ApiFactory().With("ApiKeys:Keys:0:Id", "kserve-client")
            .With("ApiKeys:Keys:0:Hash", ApiFactory.KeyHash(key));
        var anonymous = secured.CreateClient();
        var client = secured.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        var body = $"{{\"inputs\": [{{{Features}, \"shape\": [1, 37], \"data\": [{Flat}]}}]}}";

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v2/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/v2/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(Model)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"{Model}/infer", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(Model)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"{Model}/infer", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string path, object body) =>
        _client.PostAsync(path, new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

    private async Task<string> ModelVersionAsync() =>
        (await _client.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString()!;
}
