using System.ComponentModel.DataAnnotations;

namespace FlightDelay.Processing.Jobs;

/// <summary>Batch jobs: intake limits, chunking, leases, retries and retention. Bound from <c>Jobs</c>.</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    /// <summary>
    /// Rows per chunk, the unit of work one worker scores and stores at a time (and the most rows the API holds in
    /// memory during an upload). 50,000 from bench/run's chunk-size curve: per-chunk round trips dominate below it.
    /// </summary>
    [Range(100, 100_000)]
    public int ChunkSize { get; set; } = 50_000;

    /// <summary>Most rows one job may have.</summary>
    [Range(1, 100_000_000)]
    public int MaxRows { get; set; } = 10_000_000;

    /// <summary>
    /// Most invalid rows a job submitted with <c>onInvalidRow=skip</c> may have: each is stored with its reason, so past
    /// this the upload is refused as a whole (it is more likely the wrong file than a few bad rows).
    /// </summary>
    [Range(1, 1_000_000)]
    public int MaxInvalidRows { get; set; } = 10_000;

    /// <summary>
    /// Admission control: rows waiting to be scored across all jobs beyond which new jobs are refused with
    /// <c>503</c> and <c>Retry-After</c>, instead of growing the backlog without bound.
    /// </summary>
    [Range(1, long.MaxValue)]
    public long MaxQueuedRows { get; set; } = 50_000_000;

    /// <summary>
    /// Longest an upload may stream. A job still receiving after this (and a minute's grace) is an upload whose process
    /// died: the sweep removes it and its staged chunks. The API's request timeout for uploads is the same.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan MaxUploadDuration { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Largest upload accepted by <c>POST /v1/jobs</c>.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxUploadBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>The RabbitMQ queue (and in-memory endpoint) the chunk commands go to.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]+$")]
    public string QueueName { get; set; } = "score-chunk";

    /// <summary>
    /// Jobs of at most this many rows are scored by the API as it accepts them, with the model it serves synchronous
    /// requests with (the job's pinned version): the job is recorded with its results in one transaction, never queued,
    /// so it costs no broker message, worker lease or second commit, and a submission with <c>Prefer: wait</c> answers
    /// at once with its results. The work is that of a synchronous request of as many flights. 0 sends every job to the
    /// workers.
    /// </summary>
    [Range(0, 100_000)]
    public int InlineRows { get; set; } = 1_000;

    /// <summary>
    /// Jobs of at most this many rows (uploaded whole before their one chunk filled) are scored in the express lane:
    /// their own queue, <see cref="ExpressQueueName"/>, with its own <see cref="ConcurrentChunks"/> on every worker, so a
    /// small job never waits behind the chunks of big ones (a CPU-bound model's, above all). 0 turns the lane off.
    /// </summary>
    [Range(0, 100_000)]
    public int ExpressRows { get; set; } = 10_000;

    /// <summary>
    /// Fair scheduling: chunks each owner (API key) may have sent and not yet finished, across all its jobs. The rest are
    /// held in the database and sent as the owner's chunks finish, to its jobs in priority order and, within a priority,
    /// round-robin (the job with the fewest chunks out first). So the queue holds at most this many chunks per owner, and
    /// another owner's job waits behind at most that many of each, never behind a whole big job. Set it to about the
    /// consumer slots of all workers (workers × <see cref="ConcurrentChunks"/> × 2, the prefetch), or one owner alone
    /// cannot keep them all busy. Express chunks are sent at once and count against the window while they run.
    /// </summary>
    [Range(1, 100_000)]
    public int DispatchWindow { get; set; } = 32;

    /// <summary>The express lane's queue: <see cref="QueueName"/> with <c>-express</c>.</summary>
    public string ExpressQueueName => QueueName + "-express";

    /// <summary>
    /// The chunk queue's RabbitMQ type: <c>classic</c> (the default, one node: local and embedded tests) or <c>quorum</c>
    /// (replicated with Raft across a cluster's nodes; production, with <see cref="BrokerNodes"/>). RabbitMQ cannot change
    /// the type of an existing queue: switching needs a new <see cref="QueueName"/> or the old queue deleted while empty.
    /// </summary>
    [Required, RegularExpression("^(classic|quorum)$")]
    public string QueueType { get; set; } = "classic";

    /// <summary>
    /// Further RabbitMQ cluster nodes (<c>host</c> or <c>host:port</c>) besides the one in <c>ConnectionStrings:RabbitMq</c>,
    /// whose user, password and virtual host they share: the connection fails over to another node when its node goes.
    /// </summary>
    public List<string> BrokerNodes { get; set; } = [];

    /// <summary>Chunks one process scores at once (consumer concurrency); prefetch is twice this.</summary>
    [Range(1, 256)]
    public int ConcurrentChunks { get; set; } = Environment.ProcessorCount;

    /// <summary>How long a worker holds a chunk before others may take it over (a worker that died).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A pending chunk not picked up for this long is dispatched again (its message was lost).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often each consumer host looks for stalled chunks.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deliveries of a chunk before it, and its job, are marked failed. One delivery is one attempt: within it, transient
    /// database faults are retried (200 ms, then 1 s) while the lease lasts; an attempt that still fails releases the
    /// chunk, which is sent again after <see cref="RetryBackoff"/>, doubled per attempt and capped at
    /// <see cref="StallTimeout"/> (the stall sweep sends it, so add up to <see cref="SweepInterval"/>). With the
    /// defaults: attempts at about 0, 5, 15, 35 and 75 s.
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Wait before a chunk's second attempt; it doubles for each later one, up to <see cref="StallTimeout"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a finished job and its results are kept.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The longest a request may ask to be held with <c>Prefer: wait=N</c> (RFC 7240): a job's status until it changes,
    /// a submission until its job ends. A longer wait is cut to this; the answer's <c>Preference-Applied</c> says what
    /// was applied. Keep it under the idle timeout of proxies in front of the API (often 60 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often expired jobs are removed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromHours(1);
}
