using System.Buffers;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Processing.Models;

/// <summary>
/// The inputs a version scored in a window: <see cref="Flights"/> rows read, <see cref="Counts"/> of them per feature
/// (37, as <see cref="Drift.Count"/> adds them), and whether more rows were left unread past the cap.
/// </summary>
public sealed record InputSample(long Flights, bool Truncated, long[] Counts);

/// <summary>
/// Reads what job rows a model version scored, for input drift (<see cref="Drift"/>): the stored inputs
/// (<c>job_inputs</c>, <see cref="FeatureBytes"/>) of its chunks finished in a window. Jobs are in the database, so
/// every API instance answers alike whichever process scored them; the synchronous routes' inputs are only in each
/// process's <c>flightdelay_prediction_inputs_total</c>, which Prometheus sums across the fleet.
/// </summary>
public sealed class InputDrift(JobsDbContext db)
{
    /// <summary>At most this many rows are read for one answer (the newest chunks first): about 10 MB of decoded features, a second's work.</summary>
    public const int MaxFlights = 200_000;

    /// <summary>
    /// Counts the scored rows (invalid rows skipped at intake are not) of <paramref name="version"/>'s chunks finished
    /// in [<paramref name="since"/>, <paramref name="until"/>), newest chunk first, stopping after
    /// <paramref name="maxFlights"/> rows: a sample of the window's most recent traffic, not of all of it.
    /// </summary>
    /// <exception cref="InvalidDataException">A stored chunk is corrupt.</exception>
    public async Task<InputSample> CountAsync(string version, DateTime since, DateTime until, int maxFlights, CancellationToken cancellationToken)
    {
        var chunks = from c in db.Chunks.AsNoTracking()
                     where c.ModelVersion == version && c.Status == ChunkStatus.Done && c.FinishedAt >= since && c.FinishedAt < until
                     join i in db.Inputs.AsNoTracking() on new { c.JobId, c.ChunkIndex } equals new { i.JobId, i.ChunkIndex }
                     orderby c.FinishedAt descending, c.JobId, c.ChunkIndex
                     select new { c.RowCount, i.Features };

        var counts = new long[FlightSchema.FeatureCount];
        long flights = 0;
        await foreach (var chunk in chunks.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var rows = ArrayPool<float>.Shared.Rent(chunk.RowCount * FlightSchema.FeatureCount);
            try
            {
                var n = FeatureBytes.Decode(chunk.Features, rows);
                for (var r = 0; r < n; r++)
                {
                    var row = rows.AsSpan(r * FlightSchema.FeatureCount, FlightSchema.FeatureCount);
                    if (FeatureBytes.IsInvalid(row)) continue;
                    if (flights == maxFlights) return new InputSample(flights, true, counts);
                    Drift.Count(row, counts);
                    flights++;
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rows);
            }
        }
        return new InputSample(flights, false, counts);
    }
}
