using FlightDelay.Contracts;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Api.Jobs;

/// <summary>The stored job as clients see it: the views of FlightDelay.Contracts, which the client library shares.</summary>
public static class JobViews
{
    /// <param name="attempts">The callback's attempts, for one job's status; null in lists.</param>
    public static JobView Of(Job job, IReadOnlyList<JobCallbackAttempt>? attempts = null) => new(
        job.Id,
        job.Name,
        StatusName(job.Status),
        job.TotalRows,
        job.ProcessedRows,
        job.FailedRows,
        // Rows that are finished with, scored or not (invalid rows skipped at intake, rows of a failed chunk).
        job.TotalRows == 0 ? 0 : Math.Round((double)(job.ProcessedRows + job.FailedRows) / job.TotalRows, 4),
        job.ChunkCount,
        job.ChunksDone,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt,
        job.ModelVersion,
        job.Error,
        new JobLinks($"/v1/jobs/{job.Id}", $"/v1/jobs/{job.Id}/results", $"/v1/jobs/{job.Id}/results.csv", $"/v1/jobs/{job.Id}/cancel", $"/v1/jobs/{job.Id}/errors"),
        job.CallbackUrl is null ? null : new JobCallbackView(
            job.CallbackUrl,
            // "waiting" until the job ends; then pending, delivered or failed.
            job.CallbackState?.ToString().ToLowerInvariant() ?? "waiting",
            job.CallbackAttempts,
            job.CallbackState == CallbackState.Pending ? job.CallbackNextAttemptAt : null,
            attempts?.Select(a => new JobCallbackAttemptView(a.Attempt, a.DeliveryId, a.AttemptedAt, a.StatusCode, a.Error, a.DurationMs)).ToList()));

    public static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();
}
