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
        var chunks = await db.Chunks.AsNoTracking()
            .Where(c => c.JobId == id && c.Status == ChunkStatus.Done)
            .OrderBy(c => c.ChunkIndex)
            .Select(c => new { c.ChunkIndex, c.FirstRow, c.RowCount })
            .ToListAsync(context.RequestAborted);

        // One chunk at a time: its inputs say each row's airline, its results are streamed past them. Memory stays one chunk.
        var airlineOf = ArrayPool<int>.Shared.Rent(job.ChunkSize);
        var features = ArrayPool<float>.Shared.Rent(job.ChunkSize * FlightSchema.FeatureCount);
        try
        {
            foreach (var chunk in chunks)
            {
                var stored = await db.Inputs.AsNoTracking()
                    .Where(i => i.JobId == id && i.ChunkIndex == chunk.ChunkIndex)
                    .Select(i => i.Features)
                    .SingleOrDefaultAsync(context.RequestAborted);
                var rows = stored is null ? 0 : FeatureBytes.Decode(stored, features.AsSpan(0, chunk.RowCount * FlightSchema.FeatureCount));
                for (var row = 0; row < chunk.RowCount; row++)
                    airlineOf[row] = row < rows ? AirlineIndex(features.AsSpan(row * FlightSchema.FeatureCount, FlightSchema.FeatureCount)) : FlightSchema.Airlines.Count;

                var results = db.Results.AsNoTracking()
                    .Where(r => r.JobId == id && r.RowNumber >= chunk.FirstRow && r.RowNumber < chunk.FirstRow + chunk.RowCount)
                    .Select(r => new { r.RowNumber, r.Delayed, r.Probability })
                    .AsAsyncEnumerable();
                await foreach (var result in results.WithCancellation(context.RequestAborted))
                {
                    histogram[Math.Clamp((int)(result.Probability * Bins), 0, Bins - 1)]++;
                    var airline = airlineOf[result.RowNumber - chunk.FirstRow];
                    airlines[airline] = (airlines[airline].Rows + 1, airlines[airline].Delayed + (result.Delayed ? 1 : 0));
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(airlineOf);
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
