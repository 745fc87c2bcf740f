using System.ComponentModel;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.Jobs;

/// <summary><c>GET /v1/jobs/{id}/summary</c>: the figures behind the page's job charts, computed from the stored results.</summary>
public static class JobSummary
{
    /// <summary>The airline name under which rows that name no single airline are counted.</summary>
    public const string OtherAirline = "other";
    private const int Bins = 10;

    /// <summary>Maps <c>GET /v1/jobs/{id}/summary</c> on the jobs group.</summary>
    public static IEndpointConventionBuilder MapJobSummary(this RouteGroupBuilder jobs) =>
        jobs.MapGet("/{id:guid}/summary", Get).WithName("GetJobSummary")
            .WithSummary("A probability histogram (10 bins) and the delayed share by airline of the results so far.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            // Reading a job of millions of rows takes a while: the transfers' timeout, not the default one.
            .WithRequestTimeout(ApiServices.LongTransfer);

    internal static async Task<Results<Ok<JobSummaryView>, ProblemHttpResult>> Get(Guid id, CurrentClient client, JobQueries queries, CurrentModel current,
        CancellationToken cancellationToken)
    {
        if (await queries.FindAsync(id, client.Owner, cancellationToken) is not { } job)
            return Problems.NotFound($"There is no job {id}.");

        var training = current.Model.Card.Training;
        var (histogram, airlines) = await queries.SummaryAsync(job, Bins, cancellationToken);
        var byAirline = airlines
            .Select((a, i) => new AirlineShare(i < FlightSchema.Airlines.Count ? FlightSchema.Airlines[i] : OtherAirline, a.Rows, a.Delayed,
                a.Rows == 0 ? 0 : Math.Round(a.Delayed / (double)a.Rows, 4),
                Math.Round(a.Expected, 2),
                a.Rows == 0 ? 0 : Math.Round(a.Expected / a.Rows, 4),
                training is null ? null : i < training.ByAirline.Count ? training.ByAirline[i].DelayRate : training.DelayRate))
            .Where(a => a.Rows > 0)
            .ToList();
        return TypedResults.Ok(new JobSummaryView(
            id,
            JobViews.StatusName(job.Status),
            job.TotalRows,
            histogram.Sum(),
            byAirline.Sum(a => a.Delayed),
            Math.Round(airlines.Sum(a => a.Expected), 2),
            training is null ? null : Math.Round(byAirline.Sum(a => a.Rows * a.HistoricalRate!.Value), 2),
            [.. histogram.Select((count, i) => new ProbabilityBin(i / (double)Bins, (i + 1) / (double)Bins, count))],
            byAirline));
    }
}
