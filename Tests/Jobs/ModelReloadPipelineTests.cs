using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Jobs;

/// <summary>Hot reload in the distributed pipeline: the API and every worker switch, and each result records its model.</summary>
[Collection(PipelineCollection.Name)]
public class ModelReloadPipelineTests
{
    [Fact]
    public async Task Swapping_the_model_between_two_jobs_records_each_jobs_own_model_version_on_every_result()
    {
        using var folder = ModelFolder.CopyOfShipped();
        var before = FlightModel.Load(folder.Path).Version;
        var after = AlternativeModel.Load().Version;
        await using var pipeline = await Pipeline.StartAsync(workers: 2, new Dictionary<string, string?> { ["Model:Directory"] = folder.Path });
        var flights = JobApi.Flights(1_500);

        var first = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));
        await pipeline.Api.WaitForStatusAsync(first, "succeeded");

        folder.ReplaceWith(AlternativeModel.Path);
        var hosts = pipeline.Workers.Select(w => w.Services).Append(pipeline.Factory.Services).ToList();
        await Poll.UntilAsync(() => Task.FromResult(hosts.Select(s => s.GetRequiredService<CurrentModel>().Model.Version).ToList()),
            versions => versions.All(v => v == after), JobApi.Deadline, "the API and both workers to serve the new model");

        var second = await pipeline.Api.SubmitAsync(JobApi.Csv(flights));
        var secondJob = await pipeline.Api.WaitForStatusAsync(second, "succeeded");

        foreach (var (id, version) in new[] { (first, before), (second, after) })
        {
            Assert.Equal(3, await pipeline.ScalarAsync("SELECT count(*) FROM job_chunks WHERE job_id = @id AND model_version = @v", ("id", id), ("v", version)));
            Assert.Equal(1, await pipeline.ScalarAsync("SELECT count(DISTINCT model_version) FROM job_chunks WHERE job_id = @id", ("id", id)));
            var results = await pipeline.Api.AllResultsAsync(id);
            Assert.Equal(1_500, results.Count);
            Assert.All(results, r => Assert.Equal(version, r.GetProperty("modelVersion").GetString()));
        }
        Assert.Equal(after, secondJob.GetProperty("modelVersion").GetString());

        // The second job's figures are the new model's, not just its label.
        var expected = await pipeline.Api.PredictAsync(flights);
        var scored = await pipeline.Api.AllResultsAsync(second);
        for (var i = 0; i < expected.Count; i++)
            Assert.Equal(expected[i].Probability, scored[i].GetProperty("probability").GetSingle(), 5);
    }
}
