using FlightDelay.Contracts;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Api.Jobs;

/// <summary>The stored job as clients see it: the views of FlightDelay.Contracts, which the client library shares.</summary>
public static class JobViews
{
    /// <summary>A job as clients see it.</summary>
    /// <param name="job">The stored job.</param>
    /// <param name="attempts">The callback's attempts, for one job's status; null in lists.</param>
    /// <param name="activity">What its chunks are doing, for one job's status; null in lists.</param>
    public static JobView Of(Job job, IReadOnlyList<JobCallbackAttempt>? attempts = null, ChunkActivity? activity = null) => new(
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
            attempts?.Select(a => new JobCallbackAttemptView(a.Attempt, a.DeliveryId, a.AttemptedAt, a.StatusCode, a.Error, a.DurationMs)).ToList()),
        activity?.InFlight,
        activity is { Waiting: > 0, NextRetryAt: { } next } ? new JobRetryView(activity.Waiting, next, activity.LastError) : null,
        job.Priority.ToString().ToLowerInvariant());

    /// <summary>The status as the API spells it: <c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>canceled</c>.</summary>
    public static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>What a job's chunks are doing: scored right now, and waiting for a retry (the first due when, after what error).</summary>
public sealed record ChunkActivity(int InFlight, int Waiting, DateTime? NextRetryAt, string? LastError);
