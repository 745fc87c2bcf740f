using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FlightDelay.Scoring;

namespace FlightDelay.Tests.Support;

/// <summary>The jobs API as a client uses it.</summary>
public static class JobApi
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Random named flights, reproducible by seed.</summary>
    public static (string Airline, string FlightType, int Month)[] Flights(int count, int seed = 7)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (
            FlightSchema.Airlines[random.Next(FlightSchema.Airlines.Count)],
            random.Next(2) == 0 ? "I" : "N",
            random.Next(1, 13)))];
    }

    public static string Csv(IEnumerable<(string Airline, string FlightType, int Month)> flights) =>
        "airline,flightType,month\n" + string.Concat(flights.Select(f => $"{f.Airline},{f.FlightType},{f.Month}\n"));

    public static Task<HttpResponseMessage> SubmitCsvAsync(this HttpClient api, string csv, string? idempotencyKey = null, string? callbackUrl = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = new StringContent(csv, Encoding.UTF8, "text/csv") };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        if (callbackUrl is not null) request.Headers.Add("Callback-Url", callbackUrl);
        return api.SendAsync(request);
    }

    /// <summary>Submits and asserts 202 with a Location; returns the job id.</summary>
    public static async Task<Guid> SubmitAsync(this HttpClient api, string csv, string? callbackUrl = null)
    {
        var response = await api.SubmitCsvAsync(csv, callbackUrl: callbackUrl);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var job = JsonDocument.Parse(body).RootElement;
        Assert.Equal($"/v1/jobs/{job.GetProperty("id").GetGuid()}", response.Headers.Location!.ToString());
        return job.GetProperty("id").GetGuid();
    }

    public static async Task<JsonElement> GetJobAsync(this HttpClient api, Guid id) =>
        await api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");

    public static async Task<JsonElement> WaitForStatusAsync(this HttpClient api, Guid id, string status, TimeSpan? timeout = null) =>
        await Poll.UntilAsync(() => api.GetJobAsync(id),
            job => job.GetProperty("status").GetString() == status || (status != "failed" && job.GetProperty("status").GetString() == "failed"),
            timeout ?? Deadline, $"job {id} to be {status}") is var job && job.GetProperty("status").GetString() == status
            ? job
            : throw new Xunit.Sdk.XunitException($"job {id} ended {job.GetProperty("status")} instead of {status}: {job}");

    /// <summary>Polls the job until its callback is <paramref name="state"/> (delivered or failed); returns the job.</summary>
    public static async Task<JsonElement> WaitForCallbackAsync(this HttpClient api, Guid id, string state) =>
        await Poll.UntilAsync(() => api.GetJobAsync(id),
            job => job.GetProperty("callback").GetProperty("state").GetString() is var s && (s == state || s is "delivered" or "failed"),
            Deadline, $"the callback of job {id} to be {state}") is var job && job.GetProperty("callback").GetProperty("state").GetString() == state
            ? job
            : throw new Xunit.Sdk.XunitException($"the callback of job {id} ended {job.GetProperty("callback")} instead of {state}");

    /// <summary>Every result through the paged JSON API, following <c>next</c> links.</summary>
    public static async Task<List<JsonElement>> AllResultsAsync(this HttpClient api, Guid id, int pageSize = 1000)
    {
        var results = new List<JsonElement>();
        string? next = $"/v1/jobs/{id}/results?limit={pageSize}";
        while (next is not null)
        {
            var page = await api.GetFromJsonAsync<JsonElement>(next);
            var items = page.GetProperty("items").EnumerateArray().ToList();
            results.AddRange(items);
            next = items.Count == 0 ? null : page.GetProperty("next").GetString();
        }
        return results;
    }

    /// <summary>What /v1/predictions says of the same flights, in order.</summary>
    public static async Task<List<(bool Delayed, float Probability)>> PredictAsync(this HttpClient api, IReadOnlyList<(string Airline, string FlightType, int Month)> flights)
    {
        var answers = new List<(bool, float)>();
        foreach (var batch in flights.Chunk(5000))
        {
            var response = await api.PostAsJsonAsync("/v1/predictions", new { flights = batch.Select(f => new { airline = f.Airline, flightType = f.FlightType, month = f.Month }) });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            answers.AddRange(body.GetProperty("predictions").EnumerateArray().Select(p => (p.GetProperty("delayed").GetBoolean(), p.GetProperty("probability").GetSingle())));
        }
        return answers;
    }

    public static MediaTypeWithQualityHeaderValue CsvMedia => new("text/csv");

    /// <summary>A body as a client sends it: these bytes, this Content-Type (parameters and all), and a Content-Encoding when given.</summary>
    public static ByteArrayContent Body(byte[] body, string contentType, string? coding = null)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (coding is not null) content.Headers.ContentEncoding.Add(coding);
        return content;
    }

    /// <summary><see cref="Body(byte[], string, string?)"/> of UTF-8 text.</summary>
    public static ByteArrayContent Body(string body, string contentType) => Body(Encoding.UTF8.GetBytes(body), contentType);
}
