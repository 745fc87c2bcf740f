using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Persistence;

/// <summary>The embedded default's writes: EF's batched inserts, enough for one process on one file.</summary>
internal sealed class SqliteRowStore : IJobRowStore
{
    public async Task WriteInputsAsync(JobsDbContext db, Guid jobId, int firstRow, ReadOnlyMemory<float> features, CancellationToken cancellationToken)
    {
        var rows = features.Length / FeatureBytes.FeatureCount;
        var inputs = new JobInput[rows];
        for (var i = 0; i < rows; i++)
        {
            inputs[i] = new JobInput
            {
                JobId = jobId,
                RowNumber = firstRow + i,
                Features = FeatureBytes.Of(features.Span.Slice(i * FeatureBytes.FeatureCount, FeatureBytes.FeatureCount)).ToArray(),
            };
        }
        await SaveAndForgetAsync(db, inputs, cancellationToken);
    }

    public async Task WriteResultsAsync(JobsDbContext db, Guid jobId, int firstRow, ReadOnlyMemory<bool> delayed, ReadOnlyMemory<float> probabilities, CancellationToken cancellationToken)
    {
        var results = new JobResult[delayed.Length];
        for (var i = 0; i < results.Length; i++)
            results[i] = new JobResult { JobId = jobId, RowNumber = firstRow + i, Delayed = delayed.Span[i], Probability = probabilities.Span[i] };
        await SaveAndForgetAsync(db, results, cancellationToken);
    }

    // Stops tracking only the rows written here: the caller's own entities (the job being submitted) stay tracked.
    private static async Task SaveAndForgetAsync<T>(JobsDbContext db, T[] rows, CancellationToken cancellationToken)
        where T : class
    {
        db.Set<T>().AddRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var row in rows)
            db.Entry(row).State = Microsoft.EntityFrameworkCore.EntityState.Detached;
    }
}
