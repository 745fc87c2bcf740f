using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Processing.Models;

/// <summary>What really happened to one flight of a job: its 1-based row and whether it was delayed more than 15 minutes.</summary>
public readonly record struct RowOutcome(int Row, bool Delayed);

/// <summary>
/// A report's effect: rows in it, rows whose stored outcome it changed (new, or corrected; a repeat changes nothing),
/// and rows of the job with an outcome now.
/// </summary>
public sealed record OutcomeReport(int Received, int Changed, long Known);

/// <summary>One time window's live figures: flights scored in [<see cref="Start"/>, <see cref="End"/>) whose outcome is known.</summary>
public sealed record QualityWindow(DateTime Start, DateTime End, QualityFigures Figures);

/// <summary>A version's live quality over [<see cref="From"/>, <see cref="To"/>): all of it, and per window of <see cref="Bucket"/>.</summary>
public sealed record LiveQuality(string Version, DateTime From, DateTime To, TimeSpan Bucket, QualityFigures Total, IReadOnlyList<QualityWindow> Windows);

/// <summary>
/// A challenger's rows scored in the shadow against the served results of the same rows: <see cref="Served"/> the
/// versions that served them, rows compared, label agreements and their rate, the probability difference (challenger
/// minus served) as mean, mean absolute, median and 95th percentile of its absolute value, and its histogram of
/// <see cref="Bins"/> bins of <see cref="BinWidth"/> from −1 to 1; then both sides' quality on the rows whose outcome
/// was reported. Ratios are null with no rows.
/// </summary>
public sealed record ShadowComparison(
    string Challenger,
    IReadOnlyList<string> Served,
    long Rows,
    long Agreements,
    double? AgreementRate,
    double? MeanDifference,
    double? MeanAbsoluteDifference,
    double? MedianAbsoluteDifference,
    double? P95AbsoluteDifference,
    IReadOnlyList<long> Histogram,
    QualityFigures ServedQuality,
    QualityFigures ChallengerQuality)
{
    /// <summary>Histogram bins over [−1, 1].</summary>
    public const int Bins = 20;

    /// <summary>Each bin's width: 0.1 of probability.</summary>
    public const double BinWidth = 2.0 / Bins;
}

/// <summary>
/// Ground truth: outcomes reported for jobs' rows (<c>job_chunk_outcomes</c>, a byte per row, so a repeated report
/// counts once), and the live quality they give each model version: every scored row whose outcome is known, by the
/// version and time its chunk was scored. Outcomes live as long as their job (<c>Jobs:Retention</c>).
/// </summary>
public sealed class GroundTruth(JobsDbContext db, TimeProvider clock)
{
    /// <summary>
    /// Stores <paramref name="outcomes"/> for job <paramref name="jobId"/>, rows of which the caller has checked are
    /// within the job. A later outcome for a row replaces an earlier one. Reports for one job are serialized (an
    /// advisory lock on PostgreSQL, SQLite's write lock), so none is lost to another made at the same moment.
    /// </summary>
    public async Task<OutcomeReport> RecordAsync(Guid jobId, IReadOnlyList<RowOutcome> outcomes, CancellationToken cancellationToken)
    {
        var chunks = await db.Chunks.AsNoTracking().Where(c => c.JobId == jobId).OrderBy(c => c.FirstRow)
            .Select(c => new { c.ChunkIndex, c.FirstRow, c.RowCount }).ToListAsync(cancellationToken);
        var firstRows = chunks.Select(c => c.FirstRow).ToArray();

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (db.Database.IsNpgsql())
            await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtext({"outcomes:" + jobId}))", cancellationToken);
        var stored = await db.ChunkOutcomes.Where(o => o.JobId == jobId).ToDictionaryAsync(o => o.ChunkIndex, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = 0;
        var touched = new Dictionary<int, byte[]>();
        foreach (var (row, delayed) in outcomes)
        {
            var at = Array.BinarySearch(firstRows, row);
            var chunk = chunks[at >= 0 ? at : ~at - 1];
            if (!touched.TryGetValue(chunk.ChunkIndex, out var bytes))
                touched[chunk.ChunkIndex] = bytes = stored.TryGetValue(chunk.ChunkIndex, out var existing) ? [.. existing.Outcomes] : new byte[chunk.RowCount];
            var value = delayed ? JobChunkOutcome.Delayed : JobChunkOutcome.OnTime;
            ref var slot = ref bytes[row - chunk.FirstRow];
            if (slot != value) changed++;
            slot = value;
        }
        foreach (var (index, bytes) in touched)
        {
            if (stored.TryGetValue(index, out var existing))
            {
                if (existing.Outcomes.AsSpan().SequenceEqual(bytes)) continue;
                existing.Outcomes = bytes;
                existing.UpdatedAt = now;
            }
            else
            {
                var added = new JobChunkOutcome { JobId = jobId, ChunkIndex = index, Outcomes = bytes, UpdatedAt = now };
                db.ChunkOutcomes.Add(added);
                stored[index] = added;
            }
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        var known = stored.Values.Sum(o => (long)o.Outcomes.Count(b => b != JobChunkOutcome.Unknown));
        return new OutcomeReport(outcomes.Count, changed, known);
    }

    /// <summary>
    /// The live quality of <paramref name="version"/>: every row it scored in chunks finished in [<paramref name="since"/>,
    /// <paramref name="until"/>) whose outcome is known and whose result was scored (rows skipped as invalid have none),
    /// in total and per <paramref name="bucket"/> (windows aligned to the Unix epoch, only those with outcomes).
    /// </summary>
    public async Task<LiveQuality> MeasureAsync(string version, DateTime since, DateTime until, TimeSpan bucket, CancellationToken cancellationToken)
    {
        var rows = from c in db.Chunks.AsNoTracking()
                   where c.ModelVersion == version && c.Status == ChunkStatus.Done && c.FinishedAt >= since && c.FinishedAt < until
                   join o in db.ChunkOutcomes.AsNoTracking() on new { c.JobId, c.ChunkIndex } equals new { o.JobId, o.ChunkIndex }
                   join r in db.ChunkResults.AsNoTracking() on new { c.JobId, c.ChunkIndex } equals new { r.JobId, r.ChunkIndex }
                   select new { c.FinishedAt, o.Outcomes, r.Results };

        var total = new Sample();
        var windows = new SortedDictionary<long, Sample>();
        await foreach (var chunk in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var start = chunk.FinishedAt!.Value.Ticks / bucket.Ticks;
            if (!windows.TryGetValue(start, out var window)) windows[start] = window = new Sample();
            for (var row = 0; row < chunk.Outcomes.Length; row++)
            {
                if (chunk.Outcomes[row] == JobChunkOutcome.Unknown || !ResultBytes.IsScored(chunk.Results, row)) continue;
                var (delayed, probability) = ResultBytes.Read(chunk.Results, row);
                var label = chunk.Outcomes[row] == JobChunkOutcome.Delayed;
                total.Add(label, delayed, probability);
                window.Add(label, delayed, probability);
            }
        }
        return new LiveQuality(version, since, until, bucket, total.Figures(),
            [.. windows.Where(w => w.Value.Count > 0).Select(w => new QualityWindow(new DateTime(w.Key * bucket.Ticks, DateTimeKind.Utc),
                new DateTime((w.Key + 1) * bucket.Ticks, DateTimeKind.Utc), w.Value.Figures()))]);
    }

    /// <summary>
    /// How the challenger <paramref name="version"/> compared with the versions that scored the same rows for real, over
    /// the chunks it scored in the shadow that finished in [<paramref name="since"/>, <paramref name="until"/>): rows
    /// compared, labels agreeing, the distribution of probability differences (challenger minus served), and, on the rows
    /// with a reported outcome, both sides' quality.
    /// </summary>
    public async Task<ShadowComparison> CompareAsync(string version, DateTime since, DateTime until, CancellationToken cancellationToken)
    {
        var rows = from s in db.ShadowResults.AsNoTracking()
                   where s.ModelVersion == version
                   join c in db.Chunks.AsNoTracking() on new { s.JobId, s.ChunkIndex } equals new { c.JobId, c.ChunkIndex }
                   where c.FinishedAt >= since && c.FinishedAt < until
                   join r in db.ChunkResults.AsNoTracking() on new { s.JobId, s.ChunkIndex } equals new { r.JobId, r.ChunkIndex }
                   from o in db.ChunkOutcomes.AsNoTracking().Where(o => o.JobId == s.JobId && o.ChunkIndex == s.ChunkIndex).DefaultIfEmpty()
                   select new { Served = c.ModelVersion, Shadow = s.Results, r.Results, Outcomes = o == null ? null : o.Outcomes };

        var served = new SortedSet<string>(StringComparer.Ordinal);
        var differences = new List<float>();
        long agreements = 0;
        var servedSample = new Sample();
        var shadowSample = new Sample();
        var histogram = new long[ShadowComparison.Bins];
        await foreach (var chunk in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (chunk.Served is not null) served.Add(chunk.Served);
            for (var row = 0; row < ResultBytes.RowCount(chunk.Results); row++)
            {
                if (!ResultBytes.IsScored(chunk.Results, row)) continue;
                var (delayed, probability) = ResultBytes.Read(chunk.Results, row);
                var (shadowDelayed, shadowProbability) = ResultBytes.Read(chunk.Shadow, row);
                if (delayed == shadowDelayed) agreements++;
                var difference = shadowProbability - probability;
                differences.Add(difference);
                histogram[Math.Clamp((int)Math.Floor((difference + 1) / ShadowComparison.BinWidth), 0, ShadowComparison.Bins - 1)]++;
                if (chunk.Outcomes is not { } outcomes || outcomes[row] == JobChunkOutcome.Unknown) continue;
                var label = outcomes[row] == JobChunkOutcome.Delayed;
                servedSample.Add(label, delayed, probability);
                shadowSample.Add(label, shadowDelayed, shadowProbability);
            }
        }
        var absolute = differences.Select(Math.Abs).Order().ToArray();
        double Quantile(double q) => absolute.Length == 0 ? 0 : absolute[Math.Min(absolute.Length - 1, (int)Math.Ceiling(q * absolute.Length) - 1)];
        return new ShadowComparison(version, [.. served], differences.Count, agreements,
            differences.Count == 0 ? null : agreements / (double)differences.Count,
            differences.Count == 0 ? null : differences.Average(d => (double)d),
            differences.Count == 0 ? null : absolute.Average(d => (double)d),
            differences.Count == 0 ? null : Quantile(0.5),
            differences.Count == 0 ? null : Quantile(0.95),
            histogram, servedSample.Figures(), shadowSample.Figures());
    }

    /// <summary>Rows of one window: labels, served labels and probabilities, side by side.</summary>
    private sealed class Sample
    {
        private readonly List<bool> _labels = [];
        private readonly List<bool> _predicted = [];
        private readonly List<float> _probabilities = [];

        public int Count => _labels.Count;

        public void Add(bool label, bool predicted, float probability)
        {
            _labels.Add(label);
            _predicted.Add(predicted);
            _probabilities.Add(probability);
        }

        public QualityFigures Figures() =>
            BinaryQuality.Evaluate(
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_labels),
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_predicted),
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_probabilities));
    }
}
