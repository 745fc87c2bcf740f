using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// The model registry in the distributed pipeline (PostgreSQL, RabbitMQ, the API and two workers): a job is scored by
/// the version it was pinned to at submission whatever is promoted before its chunks run, and a promotion made
/// through the API reaches every process.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ModelLifecycleTests
{
    private static readonly FlightModel Shipped = FlightModel.Load(TestFiles.ShippedModel);
    private static readonly FlightModel Alternative = AlternativeModel.Load();

    [Fact]
    public async Task Jobs_keep_their_pinned_version_across_a_promotion_and_every_process_switches_champion()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        var registry = pipeline.Factory.Services.GetRequiredService<ModelRegistry>();
        Assert.True(await registry.RegisterAsync(Alternative, "train", CancellationToken.None));
        var flights = JobApi.Flights(1_500, seed: 11);

        // Queued while no worker runs, so every chunk is scored after the promotion below.
        var championJob = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));
        var namedJob = await SubmitAsync(pipeline.Api, flights, Alternative.Version);
        Assert.Equal(Shipped.Version, (await pipeline.Api.GetJobAsync(championJob)).GetProperty("modelVersion").GetString());
        Assert.Equal(Alternative.Version, (await pipeline.Api.GetJobAsync(namedJob)).GetProperty("modelVersion").GetString());

        var promoted = await pipeline.Api.PostAsync($"/v1/models/{Alternative.Version}/promote?force=true", null);
        Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        var afterPromotion = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));
        await pipeline.StartWorkerAsync();
        await pipeline.StartWorkerAsync();
        await AllServeAsync(pipeline, Alternative.Version);

        foreach (var (job, model) in new[] { (championJob, Shipped), (namedJob, Alternative), (afterPromotion, Alternative) })
        {
            var view = await pipeline.Api.WaitForStatusAsync(job, "succeeded");
            Assert.Equal(model.Version, view.GetProperty("modelVersion").GetString());
            Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND model_version <> @v", ("id", job), ("v", model.Version)));
            var results = await pipeline.Api.AllResultsAsync(job);
            Assert.Equal(flights.Length, results.Count);
            Assert.All(results, r => Assert.Equal(model.Version, r.GetProperty("modelVersion").GetString()));
            var expected = flights.Select(f => model.Predict(TestFiles.Encode(f.Airline, f.FlightType, f.Month)).Probability).ToList();
            Assert.Equal(expected, results.Select(r => r.GetProperty("probability").GetSingle()));
        }

        // Promoted back through the API, while both workers run: each process switches, the workers by reading the registry.
        Assert.Equal(HttpStatusCode.OK, (await pipeline.Api.PostAsync($"/v1/models/{Shipped.Version}/promote?force=true", null)).StatusCode);
        Assert.Equal(Shipped.Version, pipeline.Factory.Services.GetRequiredService<CurrentModel>().Model.Version);
        await AllServeAsync(pipeline, Shipped.Version);
        var list = await pipeline.Api.GetFromJsonAsync<JsonElement>("/v1/models");
        Assert.Equal(Shipped.Version, list.GetProperty("champion").GetString());
        Assert.Equal(2, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_job_naming_an_unknown_version_is_refused_with_the_registered_ones()
    {
        await using var pipeline = await Pipeline.StartAsync(workers: 0);
        using var content = JobApi.Body(JobApi.Csv(JobApi.Flights(10)), "text/csv");
        var response = await pipeline.Api.PostAsync("/v1/jobs?model=m-000000000000", content);
        var problem = await Problem.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("m-000000000000", problem.Detail);
        Assert.Equal([Shipped.Version], problem.Root.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
        Assert.Equal(0, await pipeline.ScalarAsync("SELECT count(*) FROM jobs"));
    }

    private static async Task<Guid> SubmitAsync(HttpClient api, (string Airline, string FlightType, int Month)[] flights, string model)
    {
        using var content = JobApi.Body(JobApi.Csv(flights), "text/csv");
        var response = await api.PostAsync($"/v1/jobs?model={model}", content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task AllServeAsync(Pipeline pipeline, string version)
    {
        var hosts = pipeline.Workers.Select(w => w.Services).Append(pipeline.Factory.Services).ToList();
        await Poll.UntilAsync(() => Task.FromResult(hosts.Select(s => s.GetRequiredService<CurrentModel>().Model.Version).ToList()),
            versions => versions.All(v => v == version), JobApi.Deadline, $"the API and both workers to serve {version}");
    }
}
