using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// HTTP semantics as ordinary clients and proxies use them (RFC 9110): HEAD on every GET route, weak and listed entity
/// tags in If-None-Match, compressed request bodies on every body-reading route (with limits on the decompressed
/// bytes), compressed responses for the large text answers, and any application/*+json as JSON.
/// </summary>
public sealed class HttpConventionsTests : IAsyncLifetime
{
    private const string SeedBody = """{"data":[0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,1,0,0,0,0,0]}""";

    private ApiFactory _factory = null!;
    private HttpClient _api = null!;
    private Guid _job;

    public async Task InitializeAsync()
    {
        _factory = new ApiFactory().With("Jobs:ChunkSize", "500").With("Jobs:MaxUploadBytes", "1048576");
        _api = _factory.CreateClient();
        _job = await _api.SubmitAsync(JobApi.Csv(JobApi.Flights(1_200)));
        await _api.WaitForStatusAsync(_job, "succeeded");
    }

    public async Task DisposeAsync()
    {
        _api.Dispose();
        await _factory.DisposeAsync();
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/v1/model")]
    [InlineData("/v1/jobs")]
    [InlineData("/v1/jobs/{job}")]
    [InlineData("/v1/jobs/{job}/results")]
    [InlineData("/v1/jobs/{job}/results.csv")]
    [InlineData("/v1/jobs/{job}/summary")]
    [InlineData("/v1/jobs/00000000-0000-0000-0000-000000000000")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/health/ready")]
    [InlineData("/v2/health/ready")]
    public async Task Head_answers_every_get_route_with_its_status_and_headers_and_no_body(string route)
    {
        var path = route.Replace("{job}", _job.ToString(), StringComparison.Ordinal);

        var get = await _api.GetAsync(path);
        var head = await _api.SendAsync(new HttpRequestMessage(HttpMethod.Head, path));

        Assert.Equal(get.StatusCode, head.StatusCode);
        Assert.Equal(get.Content.Headers.ContentType?.ToString(), head.Content.Headers.ContentType?.ToString());
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(get.Content.Headers.ContentDisposition?.ToString(), head.Content.Headers.ContentDisposition?.ToString());
        Assert.NotEmpty(await get.Content.ReadAsByteArrayAsync());
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_on_a_route_that_only_posts_is_a_405_that_names_post()
    {
        var head = await _api.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/predict_api"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Contains("POST", head.Content.Headers.Allow);
    }

    [Theory]
    [InlineData("{tag}", true)]
    [InlineData("W/{tag}", true)]
    [InlineData("\"other\", W/{tag}", true)]
    [InlineData("\"other\",{tag}", true)]
    [InlineData("*", true)]
    [InlineData("\"other\"", false)]
    [InlineData("W/\"other\", \"more\"", false)]
    public async Task If_none_match_compares_weakly_and_reads_lists_and_star(string ifNoneMatch, bool notModified)
    {
        var etag = (await _api.GetAsync($"/v1/jobs/{_job}")).Headers.ETag!.Tag;
        var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{_job}");
        request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch.Replace("{tag}", etag, StringComparison.Ordinal));

        var response = await _api.SendAsync(request);

        Assert.Equal(notModified ? HttpStatusCode.NotModified : HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(etag, response.Headers.ETag!.Tag);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("deflate")]
    [InlineData("br")]
    public async Task Compressed_request_bodies_are_read_on_every_body_reading_route(string coding)
    {
        var flights = JobApi.Flights(700, seed: 3);
        var job = await _api.SendAsync(Post("/v1/jobs", Compress(JobApi.Csv(flights), coding), "text/csv", coding));
        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        var id = (await job.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await _api.WaitForStatusAsync(id, "succeeded");
        var expected = await _api.PredictAsync(flights);
        Assert.Equal(expected.Select(e => e.Delayed), (await _api.AllResultsAsync(id)).Select(r => r.GetProperty("delayed").GetBoolean()));

        var seed = await _api.SendAsync(Post("/predict_api", Compress(SeedBody, coding), "application/json", coding));
        Assert.Equal(HttpStatusCode.OK, seed.StatusCode);
        Assert.Equal(await (await _api.PostAsync("/predict_api", new StringContent(SeedBody, Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync(),
            await seed.Content.ReadAsStringAsync());

        var predictions = await _api.SendAsync(Post("/v1/predictions", Compress("""{"flights":[{"airline":"Iberia","flightType":"I","month":3}]}""", coding), "application/json", coding));
        Assert.Equal(HttpStatusCode.OK, predictions.StatusCode);

        var v2 = await _api.SendAsync(Post("/v2/models/flight-delay/infer",
            Compress("""{"inputs":[{"name":"features","shape":[1,37],"datatype":"FP32","data":[0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,1,0,0,0,0,0]}]}""", coding),
            "application/json", coding));
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
    }

    [Fact]
    public async Task An_unsupported_coding_is_a_415_that_names_the_supported_ones()
    {
        var response = await _api.SendAsync(Post("/v1/jobs", Encoding.UTF8.GetBytes("airline,flightType,month\nIberia,I,3\n"), "text/csv", "compress"));

        var problem = await Problem.ReadAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Contains("gzip, deflate, br", problem.Detail);
        Assert.Equal("gzip, deflate, br", response.Headers.GetValues("Accept-Encoding").Single());
    }

    [Theory]
    [InlineData("/v1/jobs", "text/csv", "gzip")]
    [InlineData("/v1/jobs", "text/csv", "deflate")]
    [InlineData("/v1/predictions", "application/json", "br")]
    [InlineData("/predict_api", "application/json", "gzip")]
    [InlineData("/v2/models/flight-delay/infer", "application/json", "br")]
    public async Task A_plain_body_labelled_compressed_is_a_400_that_says_so(string route, string mediaType, string coding)
    {
        var response = await _api.SendAsync(Post(route, Encoding.UTF8.GetBytes(route == "/v1/jobs" ? "airline,flightType,month\nIberia,I,3\n" : SeedBody), mediaType, coding));

        var problem = route.StartsWith("/v2", StringComparison.Ordinal)
            ? await V2Error.ReadAsync(response, HttpStatusCode.BadRequest)
            : await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("decompressed", problem.Detail);
    }

    [Fact]
    public async Task A_plain_csv_labelled_br_is_never_accepted()
    {
        // Brotli has no magic number, so a plain CSV may decode to garbage rather than fail: either way, a 400.
        var response = await _api.SendAsync(Post("/v1/jobs", Encoding.UTF8.GetBytes("airline,flightType,month\nIberia,I,3\n"), "text/csv", "br"));

        await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_decompression_bomb_is_a_413_measured_on_the_decompressed_bytes()
    {
        // 8 MiB of rows that gzip to a few kB: past the 1 MiB upload limit once decompressed, far under it as sent.
        var rows = new StringBuilder("airline,flightType,month\n");
        while (rows.Length < 8 * 1024 * 1024) rows.Append("Grupo LATAM,I,7\n");
        var bomb = Compress(rows.ToString(), "gzip");
        Assert.True(bomb.Length < 100_000);

        var job = await _api.SendAsync(Post("/v1/jobs", bomb, "text/csv", "gzip"));
        await Problem.ReadAsync(job, HttpStatusCode.RequestEntityTooLarge);

        var spaces = Compress("{\"data\":[" + new string(' ', 9 * 1024 * 1024) + "]}", "gzip");
        await Problem.ReadAsync(await _api.SendAsync(Post("/v1/predictions", spaces, "application/json", "gzip")), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Large_text_answers_are_compressed_when_asked_and_sync_answers_are_not()
    {
        var plain = await (await _api.GetAsync($"/v1/jobs/{_job}/results.csv")).Content.ReadAsStringAsync();
        foreach (var coding in new[] { "gzip", "br" })
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{_job}/results.csv");
            request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue(coding));
            var response = await _api.SendAsync(request);

            Assert.Equal(coding, response.Content.Headers.ContentEncoding.Single());
            Assert.Equal(plain, Decompress(await response.Content.ReadAsByteArrayAsync(), coding));
        }

        var sync = new HttpRequestMessage(HttpMethod.Post, "/v1/predictions")
        {
            Content = new StringContent("""{"flights":[{"airline":"Iberia","flightType":"I","month":3}]}""", Encoding.UTF8, "application/json"),
        };
        sync.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        Assert.Empty((await _api.SendAsync(sync)).Content.Headers.ContentEncoding);
    }

    [Theory]
    [InlineData("application/vnd.flightdelay+json")]
    [InlineData("application/json; charset=utf-8")]
    public async Task Any_json_media_type_is_json_for_jobs_and_property_names_match_as_on_the_sync_routes(string mediaType)
    {
        var body = """{"Flights":[{"Airline":"Iberia","FlightType":"I","Month":3},{"airline":"Sky Airline","flightType":"N","month":7}]}""";
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);

        var job = await _api.PostAsync("/v1/jobs", content);
        var sync = await _api.PostAsync("/v1/predictions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, job.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sync.StatusCode);
        Assert.Equal(2, (await job.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("totalRows").GetInt32());
    }

    [Fact]
    public async Task Every_operation_declares_its_success_response_for_generated_clients()
    {
        var document = await _api.GetFromJsonAsync<JsonElement>("/openapi/v1.json");

        var missing = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var success = operation.Value.GetProperty("responses").EnumerateObject().Where(r => r.Name.StartsWith('2')).ToList();
                // A success with a body names its media type and schema; 202/204 of a job route may have none.
                if (success.Count == 0 || (operation.Name == "get" && !success.Any(r => r.Value.TryGetProperty("content", out _))))
                    missing.Add($"{operation.Name.ToUpperInvariant()} {path.Name}");
            }
        }
        Assert.Empty(missing);
    }

    private static HttpRequestMessage Post(string route, byte[] body, string mediaType, string coding) =>
        new(HttpMethod.Post, route) { Content = JobApi.Body(body, mediaType, coding) };

    private static byte[] Compress(string text, string coding)
    {
        using var output = new MemoryStream();
        using (Stream compressor = coding switch
        {
            "gzip" => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "deflate" => new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true),
            "br" => new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => throw new ArgumentException(coding, nameof(coding)),
        })
        {
            compressor.Write(Encoding.UTF8.GetBytes(text));
        }
        return output.ToArray();
    }

    private static string Decompress(byte[] body, string coding)
    {
        using Stream decompressor = coding == "gzip"
            ? new GZipStream(new MemoryStream(body), CompressionMode.Decompress)
            : new BrotliStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(decompressor, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
