namespace FlightDelay.Persistence;

/// <summary>
/// Bulk writes of job results, the one thing that differs by database: binary COPY on PostgreSQL, batched
/// inserts on SQLite. Both write inside the context's current transaction. Reads go through EF.
/// </summary>
public interface IJobRowStore
{
    /// <summary>Stores the results of rows <paramref name="firstRow"/>.., one per element.</summary>
    Task WriteResultsAsync(JobsDbContext db, Guid jobId, int firstRow, ReadOnlyMemory<bool> delayed, ReadOnlyMemory<float> probabilities, CancellationToken cancellationToken);
}
