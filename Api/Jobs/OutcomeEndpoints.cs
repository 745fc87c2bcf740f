using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using FlightDelay.Processing.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Jobs;

/// <summary>What <c>POST /v1/jobs/{id}/outcomes</c> stored.</summary>
public sealed record OutcomeReportView(
    [property: Description("The job.")] Guid JobId,
    [property: Description("Outcomes in this report.")] int Received,
    [property: Description("Rows whose stored outcome this report set or corrected; a repeated report changes none.")] int Changed,
    [property: Description("Rows of the job with an outcome now.")] long Known,
    [property: Description("Rows in the job.")] int TotalRows);

/// <summary>
/// <c>POST /v1/jobs/{id}/outcomes</c>: what really happened to a succeeded job's flights (ground truth), as CSV with
/// <c>row</c> and <c>delayed</c> columns, a JSON array or JSON Lines of <c>{"row": N, "delayed": true}</c>. Rows are
/// the job's 1-based rows; <c>delayed</c> is true/false or 1/0. All or nothing: one bad line refuses the report.
/// </summary>
public static class OutcomeEndpoints
{
    private const int MaxErrors = 100;

    /// <summary>Maps the route on the jobs group.</summary>
    public static RouteGroupBuilder MapOutcomes(this RouteGroupBuilder jobs)
    {
        jobs.MapPost("/{id:guid}/outcomes", Report).WithName("ReportJobOutcomes")
            .WithSummary("Reports what really happened to a succeeded job's flights (row, delayed): CSV, JSON or JSON Lines. Idempotent per row; feeds GET /v1/models/{version}/quality.")
            .DocumentsBody<OutcomeLine[]>("application/json", "application/jsonl", "application/x-ndjson", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return jobs;
    }

    /// <summary>One reported outcome, as JSON: the job's 1-based row and whether the flight was delayed more than 15 minutes.</summary>
    public sealed record OutcomeLine(int Row, bool Delayed);

    internal static async Task<Results<Ok<OutcomeReportView>, ProblemHttpResult>> Report(Guid id, HttpRequest request, CurrentClient client, JobQueries queries,
        GroundTruth groundTruth, IOptions<JobOptions> options, CancellationToken cancellationToken)
    {
        if (await queries.FindAsync(id, client.Owner, cancellationToken) is not { } job)
            return Problems.NotFound($"No job {id}.");
        if (job.Status != JobStatus.Succeeded)
            return Problems.Conflict($"Job {id} is {JobViews.StatusName(job.Status)}: outcomes can be reported once it has succeeded.");
        if (request.ContentLength > options.Value.MaxUploadBytes)
            return Problems.TooLarge(options.Value.MaxUploadBytes);

        var media = request.ContentType is { } type ? type.Split(';')[0].Trim().ToLowerInvariant() : "";
        Func<TextReader, int, List<string>, IAsyncEnumerable<RowOutcome>>? reader = media switch
        {
            "text/csv" => ReadCsv,
            "application/json" => ReadJson,
            "application/jsonl" or "application/x-ndjson" or "application/json-lines" => ReadJsonLines,
            _ => null,
        };
        if (reader is null)
            return Problems.UnsupportedMediaType(request.ContentType, "text/csv (row,delayed), application/json or application/jsonl");

        var errors = new List<string>();
        var outcomes = new List<RowOutcome>();
        using var text = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        try
        {
            await foreach (var outcome in reader(text, job.TotalRows, errors).WithCancellation(cancellationToken))
                outcomes.Add(outcome);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Problems.TooLarge(options.Value.MaxUploadBytes);
        }
        if (errors.Count > 0)
            return Problems.BadRequest($"{errors.Count}{(errors.Count == MaxErrors ? "+" : "")} problem(s) in the outcomes; nothing was stored. See 'errors'.",
                new Dictionary<string, object?> { ["errors"] = errors });
        if (outcomes.Count == 0)
            return Problems.BadRequest("The report holds no outcomes.");

        var stored = await groundTruth.RecordAsync(id, outcomes, cancellationToken);
        return TypedResults.Ok(new OutcomeReportView(id, stored.Received, stored.Changed, stored.Known, job.TotalRows));
    }

    /// <summary>CSV with a header naming <c>row</c> and <c>delayed</c> (any order, any case; other columns are ignored).</summary>
    private static async IAsyncEnumerable<RowOutcome> ReadCsv(TextReader text, int totalRows, List<string> errors)
    {
        var header = await text.ReadLineAsync();
        var names = header?.TrimStart('\uFEFF').Split(',').Select(n => n.Trim().Trim('"').ToLowerInvariant()).ToList() ?? [];
        int rowAt = names.IndexOf("row"), delayedAt = names.IndexOf("delayed");
        if (rowAt < 0 || delayedAt < 0)
        {
            errors.Add("line 1: the header must name a 'row' and a 'delayed' column.");
            yield break;
        }
        var line = 1;
        while (await text.ReadLineAsync() is { } content)
        {
            line++;
            if (content.Length == 0) continue;
            var fields = content.Split(',');
            if (fields.Length != names.Count)
            {
                Fail(errors, $"line {line}: {fields.Length} fields where the header has {names.Count}.");
                continue;
            }
            if (Parse(fields[rowAt].Trim().Trim('"'), fields[delayedAt].Trim().Trim('"'), totalRows, $"line {line}", errors) is { } outcome)
                yield return outcome;
            if (errors.Count >= MaxErrors) yield break;
        }
    }

    /// <summary>A JSON array of <c>{"row", "delayed"}</c> objects.</summary>
    private static async IAsyncEnumerable<RowOutcome> ReadJson(TextReader text, int totalRows, List<string> errors)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(await text.ReadToEndAsync()).RootElement;
        }
        catch (JsonException ex)
        {
            errors.Add($"The body is not JSON: {ex.Message}");
            yield break;
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            errors.Add("The body must be a JSON array of {\"row\": N, \"delayed\": true|false} objects.");
            yield break;
        }
        var index = 0;
        foreach (var item in root.EnumerateArray())
        {
            if (Parse(item, totalRows, $"[{index++}]", errors) is { } outcome)
                yield return outcome;
            if (errors.Count >= MaxErrors) yield break;
        }
    }

    /// <summary>JSON Lines: one <c>{"row", "delayed"}</c> object per line.</summary>
    private static async IAsyncEnumerable<RowOutcome> ReadJsonLines(TextReader text, int totalRows, List<string> errors)
    {
        var line = 0;
        while (await text.ReadLineAsync() is { } content)
        {
            line++;
            if (string.IsNullOrWhiteSpace(content)) continue;
            JsonElement item;
            try
            {
                item = JsonDocument.Parse(content).RootElement;
            }
            catch (JsonException ex)
            {
                Fail(errors, $"line {line}: not JSON: {ex.Message}");
                continue;
            }
            if (Parse(item, totalRows, $"line {line}", errors) is { } outcome)
                yield return outcome;
            if (errors.Count >= MaxErrors) yield break;
        }
    }

    private static RowOutcome? Parse(JsonElement item, int totalRows, string where, List<string> errors)
    {
        if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("row", out var row) || !item.TryGetProperty("delayed", out var delayed))
            return Fail(errors, $"{where}: an outcome is an object with 'row' and 'delayed'.");
        return Parse(row.ValueKind == JsonValueKind.Number ? row.GetRawText() : row.ToString(),
            delayed.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Number ? delayed.GetRawText() : delayed.ToString(),
            totalRows, where, errors);
    }

    private static RowOutcome? Parse(string row, string delayed, int totalRows, string where, List<string> errors)
    {
        if (!int.TryParse(row, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1 || number > totalRows)
            return Fail(errors, $"{where}: row must be a whole number from 1 to {totalRows} (the job's rows), not '{row}'.");
        bool? value = delayed.ToLowerInvariant() switch
        {
            "1" or "true" => true,
            "0" or "false" => false,
            _ => null,
        };
        if (value is null)
            return Fail(errors, $"{where}: delayed must be true, false, 1 or 0, not '{delayed}'.");
        return new RowOutcome(number, value.Value);
    }

    private static RowOutcome? Fail(List<string> errors, string message)
    {
        if (errors.Count < MaxErrors) errors.Add(message);
        return null;
    }
}
