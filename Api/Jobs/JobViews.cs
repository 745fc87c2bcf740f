using FlightDelay.Persistence.Jobs;

namespace FlightDelay.Api.Jobs;

/// <summary>A job as clients see it.</summary>
public sealed record JobView(
    Guid Id,
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
    JobLinks Links)
{
    public static JobView Of(Job job) => new(
        job.Id,
        StatusName(job.Status),
        job.TotalRows,
        job.ProcessedRows,
        job.FailedRows,
        job.TotalRows == 0 ? 0 : Math.Round((double)job.ProcessedRows / job.TotalRows, 4),
        job.ChunkCount,
        job.ChunksDone,
        job.CreatedAt,
        job.StartedAt,
        job.FinishedAt,
        job.ModelVersion,
        job.Error,
        new JobLinks($"/v1/jobs/{job.Id}", $"/v1/jobs/{job.Id}/results", $"/v1/jobs/{job.Id}/results.csv", $"/v1/jobs/{job.Id}/cancel"));

    public static string StatusName(JobStatus status) => status.ToString().ToLowerInvariant();
}

public sealed record JobLinks(string Self, string Results, string ResultsCsv, string Cancel);

public sealed record JobList(IReadOnlyList<JobView> Items, int Offset, int Limit, string? Next);

/// <summary>One scored row: <see cref="Row"/> is the 1-based position of the flight in the submission.</summary>
public sealed record JobResultView(int Row, bool Delayed, float Probability, string? ModelVersion);

public sealed record JobResultPage(Guid JobId, string Status, IReadOnlyList<JobResultView> Items, string? Next);
