using System.ComponentModel;
using System.Text.Json.Serialization;

namespace FlightDelay.Contracts;

/// <summary>
/// A job as clients see it (<c>GET /v1/jobs/{id}</c>, the <c>202</c> of <c>POST /v1/jobs</c>, list items).
/// </summary>
/// <param name="Id">The job's id (a UUID v7).</param>
/// <param name="Name">What the client called the job: <c>?name=</c> or its upload's file name; null when none was given.</param>
/// <param name="Status"><c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>canceled</c> (see <see cref="JobStatuses"/>).</param>
/// <param name="TotalRows">Rows in the upload, valid or not.</param>
/// <param name="ProcessedRows">Rows scored so far.</param>
/// <param name="FailedRows">Rows that will not be scored: invalid rows skipped at intake, rows of a failed chunk.</param>
/// <param name="Progress">(processed + failed) / total, 0 to 1, four decimals.</param>
/// <param name="ChunkCount">Chunks the job was split into.</param>
/// <param name="ChunksDone">Chunks finished.</param>
/// <param name="CreatedAt">When the job was accepted (UTC).</param>
/// <param name="StartedAt">When its first chunk started (UTC), null while queued.</param>
/// <param name="FinishedAt">When it ended (UTC), null until then.</param>
/// <param name="ModelVersion">The model version that scored it (<c>m-</c> and 12 hex digits), null until known.</param>
/// <param name="Error">Why it failed, null otherwise.</param>
/// <param name="Links">Where to find the job and its parts (paths relative to the service).</param>
/// <param name="Callback">The job's callback, null when it was submitted without <c>Callback-Url</c>.</param>
/// <param name="ChunksInFlight">Chunks a worker is scoring right now (leased, lease not expired); a canceled job with some still settles them. For one job's status only: null in lists.</param>
/// <param name="Priority"><c>low</c>, <c>normal</c> or <c>high</c> (<c>?priority=</c> at submission): the job's order among its owner's own jobs when their chunks wait for the owner's dispatch window.</param>
/// <param name="Retry">Set while chunks of a running job wait to be sent again (after a failed attempt, or held by a worker that stopped answering): how many, when the first is due (plus up to Jobs:SweepInterval) and its last error. Null when none wait, and in lists.</param>
public sealed record JobView(
    Guid Id,
    [property: Description("What the client called the job: ?name= or its upload's file name; null when none was given.")] string? Name,
    string Status,
    int TotalRows,
    int ProcessedRows,
    int FailedRows,
    double Progress,
    int ChunkCount,
    int ChunksDone,
    DateTime CreatedAt,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    string? ModelVersion,
    string? Error,
    JobLinks Links,
    JobCallbackView? Callback,
    [property: Description("Chunks a worker is scoring right now (leased, lease not expired); a canceled job with some still settles them. For one job's status only: null in lists.")]
    int? ChunksInFlight = null,
    [property: Description("Set while chunks of a running job wait to be sent again (after a failed attempt, or held by a worker that stopped answering): how many, when the first is due (plus up to Jobs:SweepInterval) and its last error. Null when none wait, and in lists.")]
    JobRetryView? Retry = null,
    [property: Description("low, normal or high (?priority= at submission): the job's order among its owner's own jobs when their chunks wait for the owner's dispatch window.")]
    string Priority = JobPriorities.Normal)
{
    /// <summary>Whether the job has ended (<c>succeeded</c>, <c>failed</c> or <c>canceled</c>): its status no longer changes.</summary>
    [JsonIgnore]
    public bool IsFinal => JobStatuses.IsFinal(Status);
}

/// <summary>
/// Chunks of a running job waiting to be sent again (after a failed attempt, or stalled with a worker whose lease
/// expired): how many, when the first of them is due (the stall sweep sends it then; it may be up to
/// <c>Jobs:SweepInterval</c> later), and its last error.
/// </summary>
/// <param name="Chunks">Chunks waiting to be sent again.</param>
/// <param name="NextAttemptAt">When the first of them is sent again (UTC); in the past: due now.</param>
/// <param name="LastError">Why the last attempt failed.</param>
public sealed record JobRetryView(
    [property: Description("Chunks waiting to be sent again.")] int Chunks,
    [property: Description("When the first of them is sent again (UTC; the sweep may take up to Jobs:SweepInterval more). In the past: due now.")] DateTime NextAttemptAt,
    [property: Description("Why the last attempt failed.")] string? LastError);

/// <summary>The names a job's <see cref="JobView.Priority"/> takes (<c>?priority=</c> on <c>POST /v1/jobs</c>).</summary>
public static class JobPriorities
{
    /// <summary>After the owner's normal and high jobs.</summary>
    public const string Low = "low";

    /// <summary>The default.</summary>
    public const string Normal = "normal";

    /// <summary>Before the owner's normal and low jobs.</summary>
    public const string High = "high";
}

/// <summary>The names a job's <see cref="JobView.Status"/> takes.</summary>
public static class JobStatuses
{
    /// <summary>Accepted, no chunk started yet.</summary>
    public const string Queued = "queued";

    /// <summary>Chunks are being scored.</summary>
    public const string Running = "running";

    /// <summary>Every chunk scored (some rows may have been skipped as invalid: <see cref="JobView.FailedRows"/>).</summary>
    public const string Succeeded = "succeeded";

    /// <summary>A chunk failed after its last attempt; <see cref="JobView.Error"/> says why.</summary>
    public const string Failed = "failed";

    /// <summary>Canceled by a client; results already written stay readable.</summary>
    public const string Canceled = "canceled";

    /// <summary>Whether <paramref name="status"/> is one a job ends in.</summary>
    public static bool IsFinal(string? status) => status is Succeeded or Failed or Canceled;
}

/// <summary>Where to find a job and its parts; <see cref="Errors"/> lists the invalid rows skipped at intake (empty unless <c>onInvalidRow=skip</c>).</summary>
/// <param name="Self">The job: <c>/v1/jobs/{id}</c>.</param>
/// <param name="Results">Its result pages.</param>
/// <param name="ResultsCsv">All its results as CSV.</param>
/// <param name="Cancel">Where to POST to cancel it.</param>
/// <param name="Errors">Its invalid rows.</param>
public sealed record JobLinks(string Self, string Results, string ResultsCsv, string Cancel, string Errors);

/// <summary>A page of jobs, newest first.</summary>
/// <param name="Items">The jobs (without callback attempts).</param>
/// <param name="Offset">How many jobs were skipped.</param>
/// <param name="Limit">The page size asked for (1 to 100).</param>
/// <param name="Next">The next page's path, null on the last.</param>
public sealed record JobList(IReadOnlyList<JobView> Items, int Offset, int Limit, string? Next);

/// <summary>One scored row: <see cref="Row"/> is the 1-based position of the flight in the submission.</summary>
/// <param name="Row">The 1-based position of the flight in the upload (header lines not counted).</param>
/// <param name="Delayed">The seed model's decision (see <see cref="PredictionFields.Delayed"/>).</param>
/// <param name="Probability">The calibrated probability, 0 to 1, of a delay over 15 minutes.</param>
/// <param name="ModelVersion">The model version that scored the row.</param>
public sealed record JobResultView(
    int Row,
    [property: Description(PredictionFields.Delayed)] bool Delayed,
    [property: Description(PredictionFields.Probability)] float Probability,
    string? ModelVersion);

/// <summary>An invalid row skipped at intake: its 1-based row number, where it is in the upload, and what is wrong with it.</summary>
/// <param name="Row">The 1-based row number.</param>
/// <param name="Where">Where it is in the upload, e.g. <c>row 3 (line 4)</c>.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record JobRowErrorView(int Row, string Where, string Message);

/// <summary>A page of a job's invalid rows, in row order; <see cref="Next"/> is the next page's URL, null on the last.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Items">The invalid rows of this page.</param>
/// <param name="Next">The next page's path, null on the last.</param>
public sealed record JobRowErrorPage(Guid JobId, IReadOnlyList<JobRowErrorView> Items, string? Next);

/// <summary>
/// A page of results in row order. While the job runs a page ends before the first row not yet scored and
/// <see cref="Next"/> is set; following it until it is null sees every row once.
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Status">The job's status when the page was read.</param>
/// <param name="Items">The results of this page (up to the page size, 10,000 at most).</param>
/// <param name="Next">The next page's path, null once the job has finished and this page reached its last row.</param>
public sealed record JobResultPage(Guid JobId, string Status, IReadOnlyList<JobResultView> Items, string? Next);

/// <summary>A job's callback: where it goes, how far its delivery got, and (for one job) every attempt.</summary>
/// <param name="Url">Where the notification is POSTed.</param>
/// <param name="State"><c>waiting</c> (job running), <c>pending</c>, <c>delivered</c> or <c>failed</c>.</param>
/// <param name="AttemptCount">POSTs made so far.</param>
/// <param name="NextAttemptAt">When the next attempt is due (UTC), while pending.</param>
/// <param name="Attempts">Every attempt, for one job's status; null in lists.</param>
public sealed record JobCallbackView(
    string Url,
    string State,
    int AttemptCount,
    DateTime? NextAttemptAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<JobCallbackAttemptView>? Attempts);

/// <summary>One POST of a callback: the receiver's status code, or the error that left none.</summary>
/// <param name="Attempt">1 for the first.</param>
/// <param name="DeliveryId">This attempt's id (the deprecated <c>X-FlightDelay-Delivery</c>).</param>
/// <param name="AttemptedAt">When (UTC).</param>
/// <param name="StatusCode">The receiver's status code; null when it gave none.</param>
/// <param name="Error">What went wrong, null on a 2xx.</param>
/// <param name="DurationMs">How long the POST took, in milliseconds.</param>
public sealed record JobCallbackAttemptView(int Attempt, Guid DeliveryId, DateTime AttemptedAt, int? StatusCode, string? Error, int DurationMs);

/// <summary>
/// What a job's results look like so far (<c>GET /v1/jobs/{id}/summary</c>): how the probabilities spread, how many
/// flights of each airline are labelled delayed, how many delays to expect (the sum of the calibrated probabilities)
/// and how many the training data's delay rates would give the same flights (the historical reference).
/// </summary>
/// <param name="JobId">The job.</param>
/// <param name="Status">Its status when read.</param>
/// <param name="TotalRows">Rows in the job.</param>
/// <param name="ScoredRows">Rows scored so far.</param>
/// <param name="DelayedRows">Scored rows labelled delayed.</param>
/// <param name="ExpectedDelayed">Delayed flights to expect among the scored rows: the sum of their probabilities.</param>
/// <param name="HistoricalDelayed">The same rows at their airline's training delay rate; null without training statistics.</param>
/// <param name="Histogram">Ten bins of probability, 0 to 1.</param>
/// <param name="ByAirline">Each airline with rows in the job.</param>
public sealed record JobSummaryView(
    Guid JobId,
    string Status,
    int TotalRows,
    int ScoredRows,
    [property: Description("Scored rows labelled delayed (probability at or above the model's decision threshold).")] int DelayedRows,
    [property: Description("Delayed flights to expect among the scored rows: the sum of their calibrated probabilities.")] double ExpectedDelayed,
    [property: Description("Delayed flights the training data's delay rates give the same rows: each row at its airline's historical rate (rows naming no airline at the overall rate). Null when the model card has no training statistics.")]
    double? HistoricalDelayed,
    IReadOnlyList<ProbabilityBin> Histogram,
    IReadOnlyList<AirlineShare> ByAirline);

/// <summary>Results with <see cref="From"/> &lt;= probability &lt; <see cref="To"/> (the last bin includes 1).</summary>
/// <param name="From">Lower bound, inclusive.</param>
/// <param name="To">Upper bound, exclusive (but 1 for the last bin).</param>
/// <param name="Count">Results in the bin.</param>
public sealed record ProbabilityBin(double From, double To, int Count);

/// <summary>
/// One airline's rows in the job and the share predicted delayed. Rows given as raw vectors that do not name
/// exactly one airline are counted under <c>other</c>.
/// </summary>
/// <param name="Airline">The airline, or <c>other</c>.</param>
/// <param name="Rows">Its scored rows.</param>
/// <param name="Delayed">Of those, predicted delayed.</param>
/// <param name="DelayedShare">Delayed / rows, 0 to 1, four decimals.</param>
/// <param name="ExpectedDelayed">Delayed flights to expect among these rows: the sum of their probabilities.</param>
/// <param name="ExpectedShare">ExpectedDelayed / Rows: the mean probability.</param>
/// <param name="HistoricalRate">The airline's delay rate in the training data; null without training statistics.</param>
public sealed record AirlineShare(
    string Airline,
    int Rows,
    int Delayed,
    double DelayedShare,
    [property: Description("Delayed flights to expect among these rows: the sum of their calibrated probabilities.")] double ExpectedDelayed,
    [property: Description("ExpectedDelayed / Rows: the mean calibrated probability.")] double ExpectedShare,
    [property: Description("The airline's delay rate in the training data (the overall rate for \"other\"); null when the model card has none.")] double? HistoricalRate);

/// <summary>
/// The answer to a submission sent with <c>Prefer: wait=N</c> whose job ended within those seconds (<c>200</c>): the
/// job as <c>GET /v1/jobs/{id}</c> shows it, and its results' first page (up to 10,000 rows; <see cref="JobResultPage.Next"/>
/// pages on). A job still running at the deadline is answered <c>202</c> with the job alone, as without the header.
/// </summary>
/// <param name="Job">The finished job: succeeded, failed or canceled.</param>
/// <param name="Results">Its results from row 1; empty when no row was scored.</param>
public sealed record JobWithResults(JobView Job, JobResultPage Results);
