namespace FlightDelay.Contracts;

/// <summary>
/// The body POSTed to a job's callback URL, in the Standard Webhooks payload shape. The same event, byte for byte, on
/// every attempt; the <c>webhook-id</c> header is the job id.
/// </summary>
/// <param name="Type"><c>job.succeeded</c>, <c>job.failed</c> or <c>job.canceled</c>.</param>
/// <param name="Timestamp">When the job ended (UTC).</param>
/// <param name="Data">The job.</param>
public sealed record CallbackNotification(string Type, DateTime Timestamp, CallbackJob Data);

/// <summary>A finished job as a callback tells it: its status, row counts, why it failed, the model versions that scored it, and links.</summary>
/// <param name="JobId">The job.</param>
/// <param name="Status"><c>succeeded</c>, <c>failed</c> or <c>canceled</c>.</param>
/// <param name="Rows">Its row counts.</param>
/// <param name="FailedReason">Why it failed; null unless it did.</param>
/// <param name="ModelVersion">The model version that scored it (the first, when several did).</param>
/// <param name="ModelVersions">Every model version that scored a chunk of it.</param>
/// <param name="FinishedAt">When it ended (UTC).</param>
/// <param name="Links">Where its status and results are (absolute with the server's <c>Callbacks:PublicBaseUrl</c>).</param>
public sealed record CallbackJob(
    Guid JobId,
    string Status,
    CallbackRows Rows,
    string? FailedReason,
    string? ModelVersion,
    IReadOnlyList<string> ModelVersions,
    DateTime? FinishedAt,
    CallbackLinks Links);

/// <summary>A finished job's row counts.</summary>
/// <param name="Total">Rows in the upload.</param>
/// <param name="Processed">Rows scored.</param>
/// <param name="Failed">Rows not scored (skipped as invalid, or of a failed chunk).</param>
public sealed record CallbackRows(int Total, int Processed, int Failed);

/// <summary>Where a finished job's status and results are.</summary>
/// <param name="Status">The job.</param>
/// <param name="Results">Its result pages.</param>
/// <param name="ResultsCsv">Its results as CSV.</param>
public sealed record CallbackLinks(string Status, string Results, string ResultsCsv);
