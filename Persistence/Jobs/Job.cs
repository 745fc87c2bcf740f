namespace FlightDelay.Persistence.Jobs;

/// <summary>A job's states; the transitions between them are listed on <c>FlightDelay.Processing.Jobs.JobLifecycle</c>.</summary>
public enum JobStatus
{
    /// <summary>Its upload is still streaming in: chunks are being staged, and nobody but the intake sees the job.</summary>
    Receiving,
    Queued,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

/// <summary>A batch job: its rows are in <see cref="JobInput"/>, split into <see cref="JobChunk"/>s, scored into <see cref="JobChunkResult"/>.</summary>
public sealed class Job
{
    public Guid Id { get; set; }
    public JobStatus Status { get; set; }
    public int TotalRows { get; set; }
    public int ProcessedRows { get; set; }
    public int FailedRows { get; set; }
    public int ChunkSize { get; set; }
    public int ChunkCount { get; set; }
    public int ChunksDone { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public string? ModelVersion { get; set; }
    public string? Error { get; set; }

    /// <summary>The client's <c>Idempotency-Key</c>, unique; with <see cref="RequestHash"/> it makes a retried submission return this job.</summary>
    public string? IdempotencyKey { get; set; }
    public string? RequestHash { get; set; }

    /// <summary>What the client calls the job (its file's name, or a name it gave), at most 200 characters; null when none was given.</summary>
    public string? Name { get; set; }

    /// <summary>
    /// The upload's columns other than the flight's, passed through to the results (a JSON array of their names, unique,
    /// in the upload's order); null when it had none. Each chunk's values are its input's <see cref="JobInput.Passthrough"/>.
    /// </summary>
    public string? PassthroughColumns { get; set; }

    /// <summary>Who submitted it: an API key's id when keys are configured, empty otherwise.</summary>
    public string Owner { get; set; } = "";

    /// <summary>Its order among its owner's jobs for the owner's dispatch window (<c>Jobs:DispatchWindow</c>): higher first.</summary>
    public JobPriority Priority { get; set; }

    /// <summary>Where to POST the job's outcome when it becomes final; null for no callback.</summary>
    public string? CallbackUrl { get; set; }

    /// <summary>Null until the job with a callback becomes final; then pending until delivered or given up.</summary>
    public CallbackState? CallbackState { get; set; }

    /// <summary>Delivery attempts claimed so far; a claim is a conditional increment, so an attempt number is never used twice.</summary>
    public int CallbackAttempts { get; set; }

    /// <summary>When a pending callback is due: its next attempt, or the end of the current attempt's claim.</summary>
    public DateTime? CallbackNextAttemptAt { get; set; }

    /// <summary>States of a job that still has work to do; queries use it as <c>ActiveStatuses.Contains(j.Status)</c>.</summary>
    public static readonly JobStatus[] ActiveStatuses = [JobStatus.Queued, JobStatus.Running];

    /// <summary>
    /// States of a job whose chunks workers may score: the active ones, and receiving, since chunks are sent as soon as
    /// they are staged (the upload and the scoring overlap; a refused upload removes what was scored).
    /// </summary>
    public static readonly JobStatus[] ScorableStatuses = [JobStatus.Receiving, JobStatus.Queued, JobStatus.Running];

    /// <summary>Final states: nothing changes the job any more except its callback's delivery and its removal.</summary>
    public static readonly JobStatus[] FinalStatuses = [JobStatus.Succeeded, JobStatus.Failed, JobStatus.Canceled];

    public static bool IsFinal(JobStatus status) => FinalStatuses.Contains(status);
}

/// <summary>The one rule for which jobs a client sees.</summary>
public static class JobVisibility
{
    /// <summary>The owner's jobs, without those still receiving their upload (they do not exist for anyone yet).</summary>
    public static IQueryable<Job> VisibleTo(this IQueryable<Job> jobs, string owner) =>
        jobs.Where(j => j.Owner == owner && j.Status != JobStatus.Receiving);
}

/// <summary>
/// A job's order among its owner's own jobs: chunks of a higher priority take the owner's free dispatch slots first.
/// Stored as its number (-1, 0, 1), so the database sorts by it. Another owner's jobs are not affected.
/// </summary>
public enum JobPriority
{
    Low = -1,
    Normal = 0,
    High = 1,
}

public enum CallbackState
{
    Pending,
    Delivered,
    Failed,
}

public enum ChunkStatus
{
    Pending,
    Leased,
    Done,
    Failed,
}

/// <summary>
/// A range of a job's rows, the unit of work a worker leases. A lease expires, so a chunk whose worker
/// died is dispatched again; <see cref="DispatchedAt"/> tells the dispatcher when it last sent it, and is null while the
/// chunk is held back for its owner's dispatch window.
/// </summary>
public sealed class JobChunk
{
    public Guid JobId { get; set; }
    public int ChunkIndex { get; set; }
    public int FirstRow { get; set; }

    /// <summary>Rows <see cref="FirstRow"/> to <see cref="FirstRow"/> + RowCount - 1, invalid ones included.</summary>
    public int RowCount { get; set; }

    /// <summary>
    /// Rows of the chunk that were invalid and skipped at intake (<c>onInvalidRow=skip</c>): kept in place so every row
    /// keeps its number, never scored, listed in <see cref="JobRowError"/>. Zero unless the client asked to skip.
    /// </summary>
    public int InvalidRows { get; set; }
    public ChunkStatus Status { get; set; }
    public int Attempts { get; set; }
    public Guid? LeaseToken { get; set; }

    /// <summary>The worker that holds the lease, or that scored the chunk.</summary>
    public string? WorkerId { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>When its command was last sent; null while it is held, waiting for a slot in its owner's dispatch window.</summary>
    public DateTime? DispatchedAt { get; set; }
    public DateTime? FinishedAt { get; set; }

    /// <summary>The model version that scored this chunk's rows: every result's model version.</summary>
    public string? ModelVersion { get; set; }
    public string? Error { get; set; }
}

/// <summary>The submitted flights of one chunk, encoded by <see cref="FeatureBytes"/>: the unit a worker reads.</summary>
public sealed class JobInput
{
    public Guid JobId { get; set; }
    public int ChunkIndex { get; set; }
    public byte[] Features { get; set; } = [];

    /// <summary>The chunk's passed-through column values, encoded by <see cref="PassthroughBytes"/>; null when the job has none.</summary>
    public byte[]? Passthrough { get; set; }
}

/// <summary>The scored flights of one chunk, encoded by <see cref="ResultBytes"/>, written once with the chunk's completion. Their model version is the chunk's.</summary>
public sealed class JobChunkResult
{
    public Guid JobId { get; set; }
    public int ChunkIndex { get; set; }
    public byte[] Results { get; set; } = [];
}

/// <summary>
/// A chunk scored in the shadow by the challenger (<see cref="ModelVersion"/>), beside its own results: the same
/// <see cref="ResultBytes"/> layout, never returned to the client, read only to compare the two versions.
/// Written in the transaction that completes the chunk, so it exists exactly when the chunk's results do.
/// </summary>
public sealed class JobChunkShadowResult
{
    public Guid JobId { get; set; }
    public int ChunkIndex { get; set; }
    public string ModelVersion { get; set; } = "";
    public byte[] Results { get; set; } = [];
}

/// <summary>
/// What really happened to the flights of one chunk (ground truth, reported after the job by
/// <c>POST /v1/jobs/{id}/outcomes</c>): one byte per row of the chunk, <see cref="Unknown"/>, <see cref="OnTime"/> or
/// <see cref="Delayed"/>. A later report for a row replaces the earlier one, so a report repeated counts once.
/// </summary>
public sealed class JobChunkOutcome
{
    /// <summary>No outcome reported for the row.</summary>
    public const byte Unknown = 0;

    /// <summary>The flight left on time (not delayed more than 15 minutes).</summary>
    public const byte OnTime = 1;

    /// <summary>The flight was delayed more than 15 minutes.</summary>
    public const byte Delayed = 2;

    public Guid JobId { get; set; }
    public int ChunkIndex { get; set; }

    /// <summary>One byte per row of the chunk, in row order.</summary>
    public byte[] Outcomes { get; set; } = [];

    /// <summary>When a report last changed this chunk's outcomes, UTC.</summary>
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// An invalid row of a job submitted with <c>onInvalidRow=skip</c>: its 1-based row number, where it is in the upload
/// (<c>row 7 (line 8)</c>) and what is wrong with it. Counted in <see cref="Job.FailedRows"/>.
/// </summary>
public sealed class JobRowError
{
    public Guid JobId { get; set; }
    public int Row { get; set; }
    public string Where { get; set; } = "";
    public string Message { get; set; } = "";
}

/// <summary>One POST of a job's callback: when, how it went (the receiver's status code, or why there was none) and how long it took.</summary>
public sealed class JobCallbackAttempt
{
    public Guid JobId { get; set; }
    public int Attempt { get; set; }

    /// <summary>The <c>X-FlightDelay-Delivery</c> header of this attempt.</summary>
    public Guid DeliveryId { get; set; }
    public DateTime AttemptedAt { get; set; }
    public int? StatusCode { get; set; }
    public string? Error { get; set; }
    public int DurationMs { get; set; }
}
