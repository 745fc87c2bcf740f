using System.Buffers;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Api.Jobs;

/// <summary>What a job's results look like so far: how the probabilities spread and how many flights of each airline look delayed.</summary>
public sealed record JobSummaryView(
    Guid JobId,
    string Status,
    int TotalRows,
    int ScoredRows,
    int DelayedRows,
    IReadOnlyList<ProbabilityBin> Histogram,
    IReadOnlyList<AirlineShare> ByAirline);

/// <summary>Results with <see cref="From"/> &lt;= probability &lt; <see cref="To"/> (the last bin includes 1).</summary>
public sealed record ProbabilityBin(double From, double To, int Count);

/// <summary>
/// One airline's rows in the job and the share predicted delayed. Rows given as raw vectors that do not name
/// exactly one airline are counted under <see cref="JobSummary.OtherAirline"/>.
/// </summary>
public sealed record AirlineShare(string Airline, int Rows, int Delayed, double DelayedShare);

/// <summary><c>GET /v1/jobs/{id}/summary</c>: the figures behind the page's job charts, computed from the stored results.</summary>
public static class JobSummary
{
    public const string OtherAirline = "other";
    private const int Bins = 10;

    public static IEndpointConventionBuilder MapJobSummary(this RouteGroupBuilder jobs) =>
        jobs.MapGet("/{id:guid}/summary", Get).WithName("GetJobSummary")
            .WithSummary("A probability histogram (10 bins) and the delayed share by airline of the results so far.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            // Reading a job of millions of rows takes a while: the transfers' timeout, not the default one.
            .WithRequestTimeout(ApiServices.LongTransfer);

    internal static async Task<Results<Ok<JobSummaryView>, ProblemHttpResult>> Get(Guid id, HttpContext context, JobsDbContext db)
    {
        var job = await JobEndpoints.FindAsync(db, context, id);
        if (job is null)
            return Problems.NotFound($"There is no job {id}.");

        var histogram = new int[Bins];
        var airlines = new (int Rows, int Delayed)[FlightSchema.Airlines.Count + 1]; // the last one is "other"
        // One chunk at a time: its inputs say each row's airline, its results what was predicted. Memory stays one chunk.
        var chunks = (from result in db.ChunkResults.AsNoTracking()
                      join input in db.Inputs.AsNoTracking() on new { result.JobId, result.ChunkIndex } equals new { input.JobId, input.ChunkIndex }
                      where result.JobId == id
                      orderby result.ChunkIndex
                      select new { input.Features, result.Results }).AsAsyncEnumerable();
        var features = ArrayPool<float>.Shared.Rent(job.ChunkSize * FlightSchema.FeatureCount);
        try
        {
            await foreach (var chunk in chunks.WithCancellation(context.RequestAborted))
            {
                var inputs = FeatureBytes.Decode(chunk.Features, features.AsSpan(0, job.ChunkSize * FlightSchema.FeatureCount));
                var rows = ResultBytes.RowCount(chunk.Results);
                for (var row = 0; row < rows; row++)
                {
                    var (delayed, probability) = ResultBytes.Read(chunk.Results, row);
                    histogram[Math.Clamp((int)(probability * Bins), 0, Bins - 1)]++;
                    var airline = row < inputs ? AirlineIndex(features.AsSpan(row * FlightSchema.FeatureCount, FlightSchema.FeatureCount)) : FlightSchema.Airlines.Count;
                    airlines[airline] = (airlines[airline].Rows + 1, airlines[airline].Delayed + (delayed ? 1 : 0));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
        }

        var byAirline = airlines
            .Select((a, i) => new AirlineShare(i < FlightSchema.Airlines.Count ? FlightSchema.Airlines[i] : OtherAirline, a.Rows, a.Delayed,
                a.Rows == 0 ? 0 : Math.Round(a.Delayed / (double)a.Rows, 4)))
            .Where(a => a.Rows > 0)
            .ToList();
        return TypedResults.Ok(new JobSummaryView(
            id,
            JobView.StatusName(job.Status),
            job.TotalRows,
            histogram.Sum(),
            byAirline.Sum(a => a.Delayed),
            [.. histogram.Select((count, i) => new ProbabilityBin(i / (double)Bins, (i + 1) / (double)Bins, count))],
            byAirline));
    }

    /// <summary>The airline a row names: the one 1 among features 0..22 with the other 22 at 0; anything else is "other".</summary>
    private static int AirlineIndex(ReadOnlySpan<float> row)
    {
        var found = FlightSchema.Airlines.Count;
        for (var i = 0; i < FlightSchema.Airlines.Count; i++)
        {
            if (row[i] == 0) continue;
            if (row[i] != 1 || found != FlightSchema.Airlines.Count) return FlightSchema.Airlines.Count;
            found = i;
        }
        return found;
    }
}
