using System.ComponentModel;
using System.Text.Json.Serialization;
using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Api.Jobs;

/// <summary>A job as clients see it.</summary>
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
    JobRetryView? Retry = null)
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
        activity is { Waiting: > 0, NextRetryAt: { } next } ? new JobRetryView(activity.Waiting, next, activity.LastError) : null);

    /// <summary>The status as the API spells it: <c>queued</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c> or <c>canceled</c>.</summary>
    public static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();
}

/// <summary>
/// Chunks of a running job waiting to be sent again (after a failed attempt, or stalled with a worker whose lease
/// expired): how many, when the first of them is due (the stall sweep sends it then; it may be up to
/// <c>Jobs:SweepInterval</c> later), and its last error.
/// </summary>
public sealed record JobRetryView(
    [property: Description("Chunks waiting to be sent again.")] int Chunks,
    [property: Description("When the first of them is sent again (UTC; the sweep may take up to Jobs:SweepInterval more). In the past: due now.")] DateTime NextAttemptAt,
    [property: Description("Why the last attempt failed.")] string? LastError);

/// <summary>What a job's chunks are doing: scored right now, and waiting for a retry (the first due when, after what error).</summary>
public sealed record ChunkActivity(int InFlight, int Waiting, DateTime? NextRetryAt, string? LastError);

/// <summary>Where to find a job and its parts; <see cref="Errors"/> lists the invalid rows skipped at intake (empty unless <c>onInvalidRow=skip</c>).</summary>
public sealed record JobLinks(string Self, string Results, string ResultsCsv, string Cancel, string Errors);

public sealed record JobList(IReadOnlyList<JobView> Items, int Offset, int Limit, string? Next);

/// <summary>One scored row: <see cref="Row"/> is the 1-based position of the flight in the submission.</summary>
public sealed record JobResultView(
    int Row,
    [property: Description(Predictions.PredictionFields.Delayed)] bool Delayed,
    [property: Description(Predictions.PredictionFields.Probability)] float Probability,
    string? ModelVersion);

/// <summary>An invalid row skipped at intake: its 1-based row number, where it is in the upload, and what is wrong with it.</summary>
public sealed record JobRowErrorView(int Row, string Where, string Message);

/// <summary>A page of a job's invalid rows, in row order; <see cref="Next"/> is the next page's URL, null on the last.</summary>
public sealed record JobRowErrorPage(Guid JobId, IReadOnlyList<JobRowErrorView> Items, string? Next);

public sealed record JobResultPage(Guid JobId, string Status, IReadOnlyList<JobResultView> Items, string? Next);

/// <summary>A job's callback: where it goes, how far its delivery got, and (for one job) every attempt.</summary>
public sealed record JobCallbackView(
    string Url,
    string State,
    int AttemptCount,
    DateTime? NextAttemptAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<JobCallbackAttemptView>? Attempts);

/// <summary>One POST of a callback: the receiver's status code, or the error that left none.</summary>
public sealed record JobCallbackAttemptView(int Attempt, Guid DeliveryId, DateTime AttemptedAt, int? StatusCode, string? Error, int DurationMs);
