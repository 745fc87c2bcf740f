using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Unicode;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;
using Parquet;
using Parquet.Schema;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// The read side of jobs: what a client may see of its own jobs and their results. The only reader of stored results
/// (<see cref="ResultBytes"/>), so a new result field touches this file and the writer in <c>ChunkProcessor</c>.
/// Jobs still receiving their upload are invisible here, as are other owners' jobs.
/// </summary>
internal sealed class JobQueries(JobsDbContext db)
{
    /// <summary>The owner's job with this id, or null: another owner's job is as unknown as a missing one.</summary>
    public Task<Job?> FindAsync(Guid id, string owner, CancellationToken cancellationToken) =>
        Visible(owner).FirstOrDefaultAsync(j => j.Id == id, cancellationToken);

    /// <summary>Every attempt of a job's callback, in order.</summary>
    public Task<List<JobCallbackAttempt>> CallbackAttemptsAsync(Guid id, CancellationToken cancellationToken) =>
        db.CallbackAttempts.AsNoTracking().Where(a => a.JobId == id).OrderBy(a => a.Attempt).ToListAsync(cancellationToken);

    /// <summary>
    /// What the job's chunks are doing now: how many a worker holds (lease not expired), and, while the job is active,
    /// how many wait to be sent again: released after a failed attempt (pending, with an error) or stalled in the hands
    /// of a worker that stopped answering (lease expired). Each is due when the stall sweep takes it,
    /// <see cref="JobChunk.DispatchedAt"/> + <paramref name="stallTimeout"/> and not before its lease ends; the first
    /// due and its error are reported. Succeeded and failed jobs have nothing in flight: no query.
    /// </summary>
    public async Task<ChunkActivity> ChunkActivityAsync(Job job, DateTime now, TimeSpan stallTimeout, CancellationToken cancellationToken)
    {
        if (job.Status is JobStatus.Succeeded or JobStatus.Failed) return new ChunkActivity(0, 0, null, null);
        var chunks = db.Chunks.AsNoTracking().Where(c => c.JobId == job.Id);
        var inFlight = await chunks.CountAsync(c => c.Status == ChunkStatus.Leased && c.LeaseExpiresAt > now, cancellationToken);
        if (!Job.ActiveStatuses.Contains(job.Status)) return new ChunkActivity(inFlight, 0, null, null);
        var stalled = chunks.Where(c => (c.Status == ChunkStatus.Pending && c.Attempts > 0 && c.Error != null)
            || (c.Status == ChunkStatus.Leased && c.LeaseExpiresAt <= now));
        var waiting = await stalled.CountAsync(cancellationToken);
        if (waiting == 0) return new ChunkActivity(inFlight, 0, null, null);
        // The sweep takes them oldest dispatch first; a handful is enough to find the first due.
        var first = (await stalled.OrderBy(c => c.DispatchedAt).Take(50).Select(c => new { c.DispatchedAt, c.LeaseExpiresAt, c.Error }).ToListAsync(cancellationToken))
            .Select(c => (Due: Later(Utc(c.DispatchedAt ?? now) + stallTimeout, c.LeaseExpiresAt is { } lease ? Utc(lease) : DateTime.MinValue),
                Error: c.Error ?? (c.LeaseExpiresAt is null ? null : "The worker scoring it stopped answering (its lease expired).")))
            .MinBy(c => c.Due);
        return new ChunkActivity(inFlight, waiting, first.Due, first.Error);

        static DateTime Utc(DateTime time) => DateTime.SpecifyKind(time, DateTimeKind.Utc);
        static DateTime Later(DateTime a, DateTime b) => a > b ? a : b;
    }

    /// <summary>
    /// Up to <paramref name="take"/> of the owner's jobs, newest first, from <paramref name="skip"/>, optionally in one
    /// status and with a name containing <paramref name="search"/> (any case).
    /// </summary>
    public Task<List<Job>> ListAsync(string owner, JobStatus? status, string? search, int skip, int take, CancellationToken cancellationToken)
    {
        var query = Visible(owner);
        if (status is { } wanted) query = query.Where(j => j.Status == wanted);
        // lower() on both sides: the same on PostgreSQL and SQLite (whose LIKE folds ASCII only).
#pragma warning disable CA1862 // EF translates ToLower() to SQL lower(); the StringComparison overloads do not translate.
        if (search is not null) query = query.Where(j => j.Name != null && j.Name.ToLower().Contains(search.ToLower()));
#pragma warning restore CA1862
        return query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).Skip(skip).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Up to <paramref name="take"/> results after row <paramref name="after"/>, in row order. While the job runs, the
    /// page stops before the first chunk not yet scored, so a client following pages misses no row.
    /// </summary>
    public async Task<List<JobResultView>> ResultsAsync(Job job, int after, int take, CancellationToken cancellationToken)
    {
        var items = new List<JobResultView>(Math.Min(take, job.TotalRows));
        // The first row not yet looked at: a chunk that starts after it is one not scored yet.
        var nextRow = after + 1;
        // A page spans at most take / ChunkSize + 2 chunks, plus any chunks wholly of invalid rows (rare) on its way.
        var chunks = take / job.ChunkSize + 2 + (job.FailedRows > 0 ? job.FailedRows / job.ChunkSize + 1 : 0);
        await foreach (var chunk in ScoredChunks(job, after, take, chunks).WithCancellation(cancellationToken))
        {
            if (chunk.FirstRow > nextRow && !Job.IsFinal(job.Status)) break;
            nextRow = AddScored(items, chunk.FirstRow, chunk.Results, chunk.ModelVersion, take);
            if (items.Count == take) break;
        }
        return items;
    }

    /// <summary>
    /// Adds the scored rows of one chunk's results (<see cref="ResultBytes"/>, its first row numbered
    /// <paramref name="firstRow"/>; skipped rows leave their numbers out) to <paramref name="items"/> until it holds
    /// <paramref name="take"/>. Returns the number of the row after the chunk.
    /// </summary>
    public static int AddScored(List<JobResultView> items, int firstRow, byte[] results, string? modelVersion, int take)
    {
        var rows = ResultBytes.RowCount(results);
        for (var i = 0; i < rows && items.Count < take; i++)
        {
            if (!ResultBytes.IsScored(results, i)) continue;
            var (delayed, probability) = ResultBytes.Read(results, i);
            items.Add(new JobResultView(firstRow + i, delayed, probability, modelVersion));
        }
        return firstRow + rows;
    }

    /// <summary>
    /// Writes every result as CSV (<c>row,delayed,probability,model_version</c>, a header line first) straight from the
    /// database, one chunk in memory at a time; with <paramref name="includeInputs"/> also <c>airline,flightType,month</c>,
    /// then the upload's passed-through columns (<see cref="ResultColumns.WriteCsvField"/>: safe to open in a spreadsheet).
    /// </summary>
    public Task WriteCsvAsync(Job job, PipeWriter writer, bool includeInputs, CancellationToken cancellationToken)
    {
        var passthrough = ResultColumns.Passthrough(job);
        var header = "row,delayed,probability,model_version" + (includeInputs ? ",airline,flightType,month" : "")
            + string.Concat(passthrough.Select(n => "," + ResultColumns.CsvHeader(n))) + "\n";
        return WriteRowsAsync(job, writer, System.Text.Encoding.UTF8.GetBytes(header),
            static (span, row, delayed, probability, version) => Utf8.TryWrite(span, CultureInfo.InvariantCulture,
                $"{row},{(delayed ? 1 : 0)},{probability:R},{version}", out var written) ? written : -1,
            includeInputs ? static (writer, named, airline, type, month) =>
            {
                var span = writer.GetSpan(64);
                writer.Advance(named && Utf8.TryWrite(span, CultureInfo.InvariantCulture, $",{airline},{type},{month}", out var written) ? written : WriteEmpty(span, 3));
            } : null,
            passthrough.Length == 0 ? null : (writer, _, value) => ResultColumns.WriteCsvField(writer, value), passthrough.Length, cancellationToken);

        static int WriteEmpty(Span<byte> span, int fields)
        {
            span[..fields].Fill((byte)',');
            return fields;
        }
    }

    /// <summary>
    /// Writes every result as JSON Lines, one <c>{"row":1,"delayed":true,"probability":0.72,"modelVersion":"m-…"}</c>
    /// per line, with the same names as the results pages; with <paramref name="includeInputs"/> also <c>airline</c>,
    /// <c>flightType</c> and <c>month</c> (null for raw features), then the upload's passed-through columns as strings.
    /// </summary>
    public Task WriteJsonLinesAsync(Job job, PipeWriter writer, bool includeInputs, CancellationToken cancellationToken)
    {
        var names = ResultColumns.Passthrough(job).Select(n => JsonEncodedText.Encode(n)).ToArray();
        return WriteRowsAsync(job, writer, [],
            static (span, row, delayed, probability, version) => Utf8.TryWrite(span, CultureInfo.InvariantCulture,
                $"{{\"row\":{row},\"delayed\":{(delayed ? "true" : "false")},\"probability\":{probability:R},\"modelVersion\":\"{version}\"", out var written) ? written : -1,
            includeInputs ? static (writer, named, airline, type, month) =>
            {
                var span = writer.GetSpan(96);
                writer.Advance(named
                    ? (Utf8.TryWrite(span, CultureInfo.InvariantCulture, $",\"airline\":\"{airline}\",\"flightType\":\"{type}\",\"month\":{month}", out var written) ? written : 0)
                    : (Utf8.TryWrite(span, $",\"airline\":null,\"flightType\":null,\"month\":null", out var empty) ? empty : 0));
            } : null,
            names.Length == 0 ? null : (writer, column, value) => ResultColumns.WriteJsonMember(writer, names[column], value), names.Length,
            cancellationToken, end: "}\n"u8.ToArray());
    }

    /// <summary>Writes one result's own fields into <c>span</c>; returns the bytes written (-1 when it does not fit).</summary>
    private delegate int RowWriter(Span<byte> span, int row, bool delayed, float probability, string? modelVersion);

    /// <summary>Appends the flight a row scored (<paramref name="named"/> false: raw features that name none).</summary>
    private delegate void InputsWriter(IBufferWriter<byte> writer, bool named, string airline, string flightType, int month);

    /// <summary>Appends a row's passed-through value of column <paramref name="column"/>.</summary>
    private delegate void PassthroughWriter(IBufferWriter<byte> writer, int column, ReadOnlySpan<byte> utf8);

    private async Task WriteRowsAsync(Job job, PipeWriter writer, byte[] header, RowWriter write, InputsWriter? inputs,
        PassthroughWriter? passthrough, int passthroughColumns, CancellationToken cancellationToken, byte[]? end = null)
    {
        end ??= "\n"u8.ToArray();
        header.CopyTo(writer.GetSpan(header.Length));
        writer.Advance(header.Length);
        var features = inputs is null ? [] : new float[job.ChunkSize * FlightSchema.FeatureCount];
        await foreach (var chunk in ScoredChunksWithInputs(job, inputs is not null, passthrough is not null).WithCancellation(cancellationToken))
        {
            if (inputs is not null) FeatureBytes.Decode(chunk.Features!, features);
            var rows = ResultBytes.RowCount(chunk.Results);
            var offset = 0;
            for (var i = 0; i < rows; i++)
            {
                var scored = ResultBytes.IsScored(chunk.Results, i);
                if (scored)
                {
                    var (delayed, probability) = ResultBytes.Read(chunk.Results, i);
                    // A row's own fields are under 200 bytes: the model version is at most 64 characters.
                    writer.Advance(write(writer.GetSpan(256), chunk.FirstRow + i, delayed, probability, chunk.ModelVersion));
                    if (inputs is not null)
                    {
                        var named = FlightSchema.TryDecode(features.AsSpan(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount), out var airline, out var type, out var month);
                        inputs(writer, named, airline, type, month);
                    }
                }
                if (passthrough is not null)
                {
                    // Every row has its values, scored or not: read past an invalid row's too.
                    ReadOnlySpan<byte> rest = chunk.Passthrough.AsSpan(offset);
                    for (var column = 0; column < passthroughColumns; column++)
                    {
                        var value = PassthroughBytes.Read(ref rest);
                        if (scored) passthrough(writer, column, value);
                    }
                    offset = chunk.Passthrough!.Length - rest.Length;
                }
                if (!scored) continue;
                end.CopyTo(writer.GetSpan(end.Length));
                writer.Advance(end.Length);
                if (i % 4096 == 4095) await writer.FlushAsync(cancellationToken);
            }
        }
        await writer.FlushAsync(cancellationToken);
    }

    /// <summary>
    /// Writes every result as an Apache Parquet file, one row group per chunk (so memory holds one chunk): columns
    /// <c>row</c> (int32), <c>delayed</c> (boolean), <c>probability</c> (float), <c>model_version</c> (string); with
    /// <paramref name="includeInputs"/> also the flight scored, <c>airline</c>, <c>flightType</c> and <c>month</c> (null for a
    /// row sent as raw features that name no flight), so results join back to their inputs without a second file; then
    /// the upload's passed-through columns (strings).
    /// </summary>
    public async Task WriteParquetAsync(Job job, Stream output, bool includeInputs, CancellationToken cancellationToken)
    {
        DataField[] results = [new DataField<int>("row"), new DataField<bool>("delayed"), new DataField<float>("probability"), new DataField<string>("model_version")];
        DataField[] inputs = includeInputs ? [new DataField<string>("airline", nullable: true), new DataField<string>("flightType", nullable: true), new DataField<int?>("month")] : [];
        DataField[] passed = [.. ResultColumns.Passthrough(job).Select(n => new DataField<string>(n, nullable: true))];
        await using var writer = await ParquetWriter.CreateAsync(new ParquetSchema([.. results, .. inputs, .. passed]), output, cancellationToken: cancellationToken);

        var rows = new List<int>(job.ChunkSize);
        var delayed = new List<bool>(job.ChunkSize);
        var probabilities = new List<float>(job.ChunkSize);
        var airlines = new List<string?>();
        var types = new List<string?>();
        var months = new List<int?>();
        var values = passed.Select(_ => new List<string?>()).ToArray();
        var features = includeInputs ? new float[job.ChunkSize * FlightSchema.FeatureCount] : [];
        await foreach (var chunk in ScoredChunksWithInputs(job, includeInputs, passed.Length > 0).WithCancellation(cancellationToken))
        {
            if (includeInputs) FeatureBytes.Decode(chunk.Features!, features);
            var count = ResultBytes.RowCount(chunk.Results);
            var offset = 0;
            for (var i = 0; i < count; i++)
            {
                var scored = ResultBytes.IsScored(chunk.Results, i);
                if (passed.Length > 0)
                {
                    // Every row has its values, scored or not: read past an invalid row's too.
                    ReadOnlySpan<byte> rest = chunk.Passthrough.AsSpan(offset);
                    foreach (var column in values)
                    {
                        var value = PassthroughBytes.Read(ref rest);
                        if (scored) column.Add(ResultColumns.Text(value));
                    }
                    offset = chunk.Passthrough!.Length - rest.Length;
                }
                if (!scored) continue;
                var (isDelayed, probability) = ResultBytes.Read(chunk.Results, i);
                rows.Add(chunk.FirstRow + i);
                delayed.Add(isDelayed);
                probabilities.Add(probability);
                if (!includeInputs) continue;
                var named = FlightSchema.TryDecode(features.AsSpan(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount), out var airline, out var type, out var month);
                airlines.Add(named ? airline : null);
                types.Add(named ? type : null);
                months.Add(named ? month : null);
            }
            if (rows.Count == 0) continue;

            using var group = writer.CreateRowGroup();
            await group.WriteAsync<int>(results[0], rows.ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync<bool>(results[1], delayed.ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync<float>(results[2], probabilities.ToArray(), cancellationToken: cancellationToken);
            await group.WriteAsync(results[3], Enumerable.Repeat(chunk.ModelVersion ?? "", rows.Count).ToArray());
            if (includeInputs)
            {
                await group.WriteAsync(inputs[0], airlines);
                await group.WriteAsync(inputs[1], types);
                await group.WriteAsync<int>(inputs[2], months.ToArray(), cancellationToken: cancellationToken);
            }
            for (var column = 0; column < passed.Length; column++)
                await group.WriteAsync(passed[column], values[column]);
            foreach (var list in new System.Collections.IList[] { rows, delayed, probabilities, airlines, types, months }.Concat(values)) list.Clear();
        }
    }

    /// <summary>
    /// The probability histogram (<paramref name="bins"/> bins over [0, 1]) and, by airline index (the last is "other"),
    /// rows, rows labelled delayed and the sum of their probabilities (the delays to expect).
    /// </summary>
    public async Task<(int[] Histogram, (int Rows, int Delayed, double Expected)[] Airlines)> SummaryAsync(Job job, int bins, CancellationToken cancellationToken)
    {
        var histogram = new int[bins];
        var airlines = new (int Rows, int Delayed, double Expected)[FlightSchema.Airlines.Count + 1];
        // One chunk at a time: its inputs say each row's airline, its results what was predicted. Memory stays one chunk.
        var chunks = ScoredChunksWithInputs(job, withInputs: true);
        var features = ArrayPool<float>.Shared.Rent(job.ChunkSize * FlightSchema.FeatureCount);
        try
        {
            await foreach (var chunk in chunks.WithCancellation(cancellationToken))
            {
                var inputs = FeatureBytes.Decode(chunk.Features!, features.AsSpan(0, job.ChunkSize * FlightSchema.FeatureCount));
                var rows = ResultBytes.RowCount(chunk.Results);
                for (var row = 0; row < rows; row++)
                {
                    if (!ResultBytes.IsScored(chunk.Results, row)) continue;
                    var (delayed, probability) = ResultBytes.Read(chunk.Results, row);
                    histogram[Math.Clamp((int)(probability * bins), 0, bins - 1)]++;
                    var airline = row < inputs ? AirlineIndex(features.AsSpan(row * FlightSchema.FeatureCount, FlightSchema.FeatureCount)) : FlightSchema.Airlines.Count;
                    airlines[airline] = (airlines[airline].Rows + 1, airlines[airline].Delayed + (delayed ? 1 : 0), airlines[airline].Expected + probability);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
        }
        return (histogram, airlines);
    }

    /// <summary>Up to <paramref name="take"/> of the job's invalid rows after row <paramref name="after"/>, in row order.</summary>
    public Task<List<JobRowError>> RowErrorsAsync(Job job, int after, int take, CancellationToken cancellationToken) =>
        db.RowErrors.AsNoTracking().Where(e => e.JobId == job.Id && e.Row > after).OrderBy(e => e.Row).Take(take).ToListAsync(cancellationToken);

    private IQueryable<Job> Visible(string owner) =>
        db.Jobs.AsNoTracking().VisibleTo(owner);

    /// <summary>Scored results of a chunk: rows <see cref="FirstRow"/>.., scored by <see cref="ModelVersion"/>.</summary>
    private sealed record ScoredChunk(int FirstRow, string? ModelVersion, byte[] Results);

    /// <summary>
    /// Up to <paramref name="chunks"/> of the job's scored chunks with rows after <paramref name="after"/>, in row order,
    /// one in memory at a time. Each is cut in SQL to its rows after <paramref name="after"/>, at most <paramref name="rows"/>
    /// of them, so a page reads the bytes it shows rather than whole chunks.
    /// </summary>
    private IAsyncEnumerable<ScoredChunk> ScoredChunks(Job job, int after, int rows, int chunks) =>
        (from result in db.ChunkResults.AsNoTracking()
         join chunk in db.Chunks.AsNoTracking() on new { result.JobId, result.ChunkIndex } equals new { chunk.JobId, chunk.ChunkIndex }
         where result.JobId == job.Id && result.ChunkIndex >= after / job.ChunkSize
         orderby result.ChunkIndex
         let skipped = Math.Max(0, after - chunk.FirstRow + 1)
         select new ScoredChunk(chunk.FirstRow + skipped, chunk.ModelVersion,
             // Invalid rows have no result: take enough more bytes to still hold `rows` results.
             JobsDbContext.Substr(result.Results, skipped * ResultBytes.RowBytes + 1, (rows + chunk.InvalidRows) * ResultBytes.RowBytes)))
        .Take(chunks)
        .AsAsyncEnumerable();

    /// <summary>A scored chunk whole, from its first row, with its stored inputs and passed-through values when asked for (null otherwise).</summary>
    private sealed record ScoredInputs(int FirstRow, string? ModelVersion, byte[] Results, byte[]? Features, byte[]? Passthrough);

    /// <summary>
    /// The job's scored chunks in row order, each with its inputs when <paramref name="withInputs"/> and its passed-through
    /// values when <paramref name="withPassthrough"/>, one in memory at a time.
    /// </summary>
    private IAsyncEnumerable<ScoredInputs> ScoredChunksWithInputs(Job job, bool withInputs, bool withPassthrough = false) =>
        (from result in db.ChunkResults.AsNoTracking()
         join chunk in db.Chunks.AsNoTracking() on new { result.JobId, result.ChunkIndex } equals new { chunk.JobId, chunk.ChunkIndex }
         join input in db.Inputs.AsNoTracking() on new { result.JobId, result.ChunkIndex } equals new { input.JobId, input.ChunkIndex }
         where result.JobId == job.Id
         orderby result.ChunkIndex
         select new ScoredInputs(chunk.FirstRow, chunk.ModelVersion, result.Results, withInputs ? input.Features : null,
             withPassthrough ? input.Passthrough : null))
        .AsAsyncEnumerable();

    /// <summary>The airline a row names: the one 1 among features 0..22 with the other 22 at 0; anything else is "other".</summary>
    private static int AirlineIndex(ReadOnlySpan<float> row)
    {
        var found = FlightSchema.Airlines.Count;
        for (var i = 0; i < FlightSchema.Airlines.Count; i++)
        {
            if (row[i] == 0) continue;
            if (row[i] != 1 || found != FlightSchema.Airlines.Count) return FlightSchema.Airlines.Count;
            found = i;
        }
        return found;
    }
}
