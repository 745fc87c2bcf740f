using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Npgsql;

namespace FlightDelay.Tests.Faults;

/// <summary>What a soak client knows of one submission: its key, what it sent, what it was told and what it asked for.</summary>
public sealed class ChaosSubmission(string key, int rows, int flightSeed, bool withCallback)
{
    public string Key { get; } = key;

    public int Rows { get; } = rows;

    /// <summary>The rows are <c>JobApi.Flights(Rows, FlightSeed)</c>: the checker rebuilds them from this.</summary>
    public int FlightSeed { get; } = flightSeed;

    public bool WithCallback { get; } = withCallback;

    /// <summary>Every job id an answer (202 or a replay) gave for this key; more than one is a duplicate.</summary>
    public HashSet<Guid> Ids { get; } = [];

    public bool CancelRequested { get; set; }

    /// <summary>Why the key was never accepted (it ran out of retries), or null.</summary>
    public string? GaveUp { get; set; }
}

/// <summary>The checker's verdict; all of <see cref="Lost"/>, <see cref="Duplicated"/> and <see cref="Wrong"/> must be zero.</summary>
public sealed record ChaosVerdict(int Jobs, long Rows, long Lost, long Duplicated, long Wrong, IReadOnlyList<string> Problems, string Summary);

/// <summary>
/// The soak's independent checker. It reads PostgreSQL with its own SQL and decodes the stored results itself (5 bytes a
/// row: big-endian float32 probability, then the delayed flag), rebuilds each job's rows from the client's seed and asks
/// the model directly; it uses nothing of the service's lifecycle, queries or result readers. What it verifies is the
/// service's promise, not its implementation:
/// every accepted job is final; every succeeded job has exactly one result per row, equal to the model's; no idempotency
/// key made two jobs; every final job with a callback had it delivered at least once with a valid signature; a canceled job
/// holds only whole chunks (each correct) and none finished after the cancel past a lease; and no chunk was completed by a
/// lease that had already run out (a paused worker that woke up).
/// </summary>
public static class ChaosChecker
{
    private const int RowBytes = 5;

    public static async Task<ChaosVerdict> CheckAsync(string connectionString, IReadOnlyList<ChaosSubmission> submissions,
        IReadOnlyList<ReceivedCallback> callbacks, string signingKey, TimeSpan lease)
    {
        var problems = new List<string>();
        long lost = 0, duplicated = 0, wrong = 0, rows = 0;
        var model = FlightModel.Load(TestFiles.ShippedModel);
        var bySubmissionKey = submissions.ToDictionary(s => s.Key);

        await using var db = new NpgsqlConnection(connectionString);
        await db.OpenAsync();
        var jobs = new List<(Guid Id, string Status, string? Key, int Total, int Processed, DateTime? Finished, string? CallbackUrl)>();
        await using (var command = new NpgsqlCommand("SELECT id, status, idempotency_key, total_rows, processed_rows, finished_at, callback_url FROM jobs", db))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                jobs.Add((reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetDateTime(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        var byId = jobs.ToDictionary(j => j.Id);

        // No idempotency key made two jobs, in the database or in the answers a client saw.
        foreach (var group in jobs.Where(j => j.Key is not null).GroupBy(j => j.Key))
            if (group.Count() > 1) { duplicated += group.Count() - 1; problems.Add($"key {group.Key} has {group.Count()} jobs"); }
        foreach (var submission in submissions)
        {
            if (submission.Ids.Count > 1) { duplicated += submission.Ids.Count - 1; problems.Add($"key {submission.Key} was answered with {submission.Ids.Count} job ids"); }
            foreach (var id in submission.Ids.Where(id => !byId.ContainsKey(id)))
            {
                lost += submission.Rows;
                problems.Add($"job {id} (key {submission.Key}) was accepted but is not in the database");
            }
        }

        foreach (var job in jobs)
        {
            // A job still receiving was never accepted (its upload died with its API); the retention sweep removes it.
            if (job.Status == "Receiving") continue;
            if (job.Key is null || !bySubmissionKey.TryGetValue(job.Key, out var submission))
            {
                problems.Add($"job {job.Id} has no client submission (key {job.Key})");
                continue;
            }
            rows += job.Total;
            if (job.Status is not ("Succeeded" or "Canceled"))
            {
                lost += job.Total - job.Processed;
                problems.Add($"job {job.Id} ({job.Total} rows) ended {job.Status}, not succeeded or canceled");
                if (job.Status != "Failed") continue;
            }
            if (job.Status == "Canceled" && !submission.CancelRequested)
                problems.Add($"job {job.Id} is canceled but nobody asked");
            if (job.Total != submission.Rows)
            {
                wrong += submission.Rows;
                problems.Add($"job {job.Id} has {job.Total} rows; the client sent {submission.Rows}");
                continue;
            }

            var expected = Expected(model, submission);
            var seen = new int[job.Total];
            var chunks = await ChunksAsync(db, job.Id);
            long doneRows = 0;
            foreach (var chunk in chunks)
            {
                if (chunk.Status == "Done" && chunk.LeaseExpires is { } expires && chunk.Finished > expires)
                {
                    wrong += chunk.RowCount;
                    problems.Add($"job {job.Id} chunk {chunk.Index} was completed at {chunk.Finished:O} by a lease that ran out at {expires:O}");
                }
                if (job.Status == "Canceled" && chunk.Status == "Done" && chunk.Finished > job.Finished + lease)
                {
                    wrong += chunk.RowCount;
                    problems.Add($"canceled job {job.Id} chunk {chunk.Index} finished at {chunk.Finished:O}, more than a lease after the cancel ({job.Finished:O})");
                }
                if (chunk.Results is null)
                {
                    if (chunk.Status == "Done") { lost += chunk.RowCount; problems.Add($"job {job.Id} chunk {chunk.Index} is done without results"); }
                    continue;
                }
                if (chunk.Status != "Done") { wrong += chunk.RowCount; problems.Add($"job {job.Id} chunk {chunk.Index} has results but is {chunk.Status}"); }
                if (chunk.Results.Length != chunk.RowCount * RowBytes)
                {
                    wrong += chunk.RowCount;
                    problems.Add($"job {job.Id} chunk {chunk.Index} stores {chunk.Results.Length} bytes for {chunk.RowCount} rows");
                    continue;
                }
                doneRows += chunk.RowCount;
                for (var i = 0; i < chunk.RowCount; i++)
                {
                    var row = chunk.FirstRow + i - 1;
                    if (row < 0 || row >= job.Total) { wrong++; continue; }
                    if (++seen[row] > 1) duplicated++;
                    var probability = BinaryPrimitives.ReadSingleBigEndian(chunk.Results.AsSpan(i * RowBytes, 4));
                    var delayed = chunk.Results[i * RowBytes + 4] != 0;
                    if (delayed != expected[row].Delayed || Math.Abs(probability - expected[row].Probability) > 1e-6) wrong++;
                }
            }
            if (job.Status == "Succeeded")
            {
                var missing = seen.Count(n => n == 0);
                if (missing > 0) { lost += missing; problems.Add($"succeeded job {job.Id} lacks {missing} of {job.Total} results"); }
            }
            if (job.Processed != doneRows)
                problems.Add($"job {job.Id} says {job.Processed} rows processed; {doneRows} are stored");

            // A final job's callback reached the receiver at least once, signed, saying how it ended.
            if (submission.WithCallback)
            {
                var status = job.Status.ToLowerInvariant();
                var delivered = callbacks.Any(c => SaysJob(c, job.Id, status) && c.SignatureVerifies(signingKey));
                if (!delivered) { lost++; problems.Add($"job {job.Id} ({status}) has no signed callback saying so ({callbacks.Count(c => SaysJob(c, job.Id, null))} for it)"); }
            }
        }

        var accepted = jobs.Count(j => j.Status != "Receiving");
        var gaveUp = submissions.Count(s => s.GaveUp is not null);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"jobs {accepted} ({string.Join(", ", jobs.GroupBy(j => j.Status).OrderBy(g => g.Key).Select(g => $"{g.Key.ToLowerInvariant()} {g.Count()}"))}), "
            + $"rows {rows}, callbacks received {callbacks.Count}, keys never accepted {gaveUp}; lost {lost}, duplicated {duplicated}, wrong {wrong}");
        return new ChaosVerdict(accepted, rows, lost, duplicated, wrong, problems, summary);
    }

    private static bool SaysJob(ReceivedCallback callback, Guid id, string? status)
    {
        try
        {
            var data = callback.Data;
            return data.GetProperty("jobId").GetGuid() == id && (status is null || data.GetProperty("status").GetString() == status);
        }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException or System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static Prediction[] Expected(FlightModel model, ChaosSubmission submission)
    {
        var flights = JobApi.Flights(submission.Rows, submission.FlightSeed);
        var features = new float[flights.Length * FlightSchema.FeatureCount];
        for (var i = 0; i < flights.Length; i++)
            FlightSchema.TryEncode(flights[i].Airline, flights[i].FlightType, flights[i].Month, features.AsSpan(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount));
        var predictions = new Prediction[flights.Length];
        model.PredictBatch(features, predictions);
        return predictions;
    }

    private sealed record Chunk(int Index, int FirstRow, int RowCount, string Status, DateTime? Finished, DateTime? LeaseExpires, byte[]? Results);

    private static async Task<List<Chunk>> ChunksAsync(NpgsqlConnection db, Guid jobId)
    {
        await using var command = new NpgsqlCommand("""
            SELECT c.chunk_index, c.first_row, c.row_count, c.status, c.finished_at, c.lease_expires_at, r.results
            FROM job_chunks c LEFT JOIN job_chunk_results r USING (job_id, chunk_index)
            WHERE c.job_id = @id ORDER BY c.chunk_index
            """, db);
        command.Parameters.AddWithValue("id", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        var chunks = new List<Chunk>();
        while (await reader.ReadAsync())
            chunks.Add(new Chunk(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetDateTime(4), reader.IsDBNull(5) ? null : reader.GetDateTime(5),
                reader.IsDBNull(6) ? null : (byte[])reader[6]));
        return chunks;
    }

    /// <summary>One line per problem, at most <paramref name="max"/>.</summary>
    public static string Describe(ChaosVerdict verdict, int max = 30)
    {
        var text = new StringBuilder(verdict.Summary);
        foreach (var problem in verdict.Problems.Take(max)) text.Append("\n  ").Append(problem);
        if (verdict.Problems.Count > max) text.Append(CultureInfo.InvariantCulture, $"\n  … and {verdict.Problems.Count - max} more");
        return text.ToString();
    }
}
