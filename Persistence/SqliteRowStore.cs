using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Persistence;

/// <summary>The embedded default's writes: EF's batched inserts, enough for one process on one file.</summary>
internal sealed class SqliteRowStore : IJobRowStore
{
    public async Task WriteResultsAsync(JobsDbContext db, Guid jobId, int firstRow, ReadOnlyMemory<bool> delayed, ReadOnlyMemory<float> probabilities, CancellationToken cancellationToken)
    {
        var results = new JobResult[delayed.Length];
        for (var i = 0; i < results.Length; i++)
            results[i] = new JobResult { JobId = jobId, RowNumber = firstRow + i, Delayed = delayed.Span[i], Probability = probabilities.Span[i] };
        db.Results.AddRange(results);
        await db.SaveChangesAsync(cancellationToken);
        // Only these rows stop being tracked: whatever else the caller tracks stays.
        foreach (var result in results)
            db.Entry(result).State = Microsoft.EntityFrameworkCore.EntityState.Detached;
    }
}
