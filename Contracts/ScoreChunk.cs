namespace FlightDelay.Contracts;

/// <summary>
/// Command: score one chunk of a batch job. Only ids travel; the rows are in the database, which is the
/// source of truth. Sent once when the job is accepted and again by the dispatcher if the chunk stalls,
/// so a consumer may see it more than once.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="ChunkIndex">The chunk, 0-based.</param>
public sealed record ScoreChunk(Guid JobId, int ChunkIndex);
