using System.Buffers;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Jobs;

/// <summary>A row-level problem in a submission: 1-based row number, where it is, and what is wrong.</summary>
public sealed record RowError(int Row, string Where, string Message);

/// <summary>
/// Where the upload parsers put rows: a batch of feature vectors that the intake stores when full, plus the
/// row errors found so far. The parsers stop adding once the batch is full or the upload is refused.
/// By default one invalid row refuses the upload (reading goes on to report up to <see cref="MaxErrors"/>). With
/// <paramref name="skipInvalid"/>, an invalid row takes its place in the batch as a placeholder
/// (<see cref="FeatureBytes.MarkInvalid"/>) and its error is kept with the batch, up to <paramref name="maxInvalid"/>
/// of them; only a problem that ends reading, too many rows or too many invalid ones refuse the upload.
/// </summary>
internal sealed class RowSink(int batchRows, int maxRows, bool skipInvalid = false, int maxInvalid = 0)
{
    public const int MaxErrors = 20;

    // Grown as rows arrive, up to batchRows: a 100-row upload must not allocate a 50,000-row batch (7.4 MB, on the large
    // object heap) per request. The first size stays under the large object heap's 85,000 bytes.
    private float[] _batch = new float[Math.Min(batchRows, 512) * FlightSchema.FeatureCount];

    // The batch's passed-through values (PassthroughBytes), and how many of them the current row has so far.
    private readonly ArrayBufferWriter<byte> _passthrough = new();
    private int _committedPassthrough;
    private int _rowValues;

    /// <summary>
    /// The upload's columns to pass through to the results, set by a parser once it read its header (empty: none).
    /// With columns, the parser calls <see cref="Pass"/> with a row's values before it commits or rejects the row.
    /// A column named <c>delayed</c> (passed through as <c>input_delayed</c>) is also the row's outcome: an evaluation job.
    /// </summary>
    public IReadOnlyList<string> PassthroughNames
    {
        get => _passthroughNames;
        set
        {
            _passthroughNames = value;
            _labelColumn = value.ToList().FindIndex(n => n.Equals(LabelColumn, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>The results' name of an upload column called <c>delayed</c> (<see cref="ResultColumns.PassthroughName"/>).</summary>
    private const string LabelColumn = "input_delayed";

    private IReadOnlyList<string> _passthroughNames = [];
    private int _labelColumn = -1;

    // The batch's outcomes from the label column (JobChunkOutcome bytes, one per row), and the current row's.
    private readonly List<byte> _labels = [];
    private byte _rowLabel;
    private string? _rowLabelError;

    /// <summary>Adds the current row's next passed-through value.</summary>
    public void Pass(ReadOnlySpan<char> value)
    {
        if (_rowValues == PassthroughNames.Count) return;
        if (_rowValues == _labelColumn) ReadLabel(value.Trim());
        PassthroughBytes.Write(_passthrough, value);
        _rowValues++;
    }

    /// <summary>An outcome in the label column: true/false, 1/0 (any case), or empty for unknown.</summary>
    private void ReadLabel(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) _rowLabel = JobChunkOutcome.Unknown;
        else if (value is "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase)) _rowLabel = JobChunkOutcome.Delayed;
        else if (value is "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase)) _rowLabel = JobChunkOutcome.OnTime;
        else _rowLabelError = $"delayed (the outcome column) must be true, false, 1, 0 or empty, not '{value}'.";
    }

    /// <summary>
    /// The batch's outcomes from a <c>delayed</c> column (<see cref="JobChunkOutcome"/> bytes, one per row), or null
    /// when the upload has no such column or the batch names no outcome.
    /// </summary>
    public byte[]? LabelBatch => _labelColumn >= 0 && _labels.Exists(l => l != JobChunkOutcome.Unknown) ? [.. _labels] : null;

    /// <summary>The batch's passed-through values (<see cref="PassthroughBytes"/>), or null when there are no such columns.</summary>
    public byte[]? PassthroughBatch => PassthroughNames.Count == 0 ? null : _passthrough.WrittenSpan.ToArray();

    /// <summary>
    /// Refusing: every error so far (at most <see cref="MaxErrors"/> are reported). Skipping: the current batch's
    /// invalid rows, which the intake stores with it; <see cref="Clear"/> empties it.
    /// </summary>
    public List<RowError> Errors { get; } = [];

    /// <summary>The first errors of the upload, whatever the policy: what a refusal shows.</summary>
    public List<RowError> FirstErrors { get; } = [];

    /// <summary>Invalid rows kept as placeholders so far (skipping only).</summary>
    public int InvalidRows { get; private set; }

    /// <summary>The upload is refused: an invalid row (refusing), or a problem no policy skips.</summary>
    public bool Refused => _stopped || (!skipInvalid && Errors.Count > 0);

    /// <summary>Rows accepted so far (valid or not): the next row's number is this plus one.</summary>
    public int Rows { get; private set; }

    /// <summary>Rows in the current batch.</summary>
    public int Pending { get; private set; }

    public bool IsFull => Pending == batchRows;

    private bool _stopped;

    /// <summary>Enough errors to report, or one that makes the rest unreadable.</summary>
    public bool ShouldStop => _stopped || (!skipInvalid && Errors.Count >= MaxErrors);

    public int NextRow => Rows + 1;

    public ReadOnlyMemory<float> Batch => _batch.AsMemory(0, Pending * FlightSchema.FeatureCount);

    /// <summary>Row number of the first row in <see cref="Batch"/>.</summary>
    public int BatchFirstRow => Rows - Pending + 1;

    /// <summary>The next row's feature slot; fill it, then call <see cref="Commit"/> (or <see cref="Reject"/>).</summary>
    public Span<float> NextSlot()
    {
        if ((Pending + 1) * FlightSchema.FeatureCount > _batch.Length)
            Array.Resize(ref _batch, Math.Min(batchRows, Math.Max(Pending + 1, _batch.Length / FlightSchema.FeatureCount * 2)) * FlightSchema.FeatureCount);
        return _batch.AsSpan(Pending * FlightSchema.FeatureCount, FlightSchema.FeatureCount);
    }

    public void Commit()
    {
        if (_rowLabelError is { } labelError)
        {
            Reject($"row {NextRow}", labelError);
            return;
        }
        if (!CountRow()) return;
        KeepPassthrough();
        Pending++;
    }

    /// <summary>The current row's values are kept: a value it lacks is empty.</summary>
    private void KeepPassthrough()
    {
        while (_rowValues < PassthroughNames.Count) Pass("");
        _committedPassthrough = _passthrough.WrittenCount;
        _rowValues = 0;
        if (_labelColumn >= 0) _labels.Add(_rowLabelError is null ? _rowLabel : JobChunkOutcome.Unknown);
        (_rowLabel, _rowLabelError) = (JobChunkOutcome.Unknown, null);
    }

    /// <summary>The current row's values go: it is not stored.</summary>
    private void DropPassthrough()
    {
        if (_passthrough.WrittenCount > _committedPassthrough)
        {
            var kept = _passthrough.WrittenSpan[.._committedPassthrough].ToArray();
            _passthrough.ResetWrittenCount();
            _passthrough.Write(kept);
        }
        _rowValues = 0;
        (_rowLabel, _rowLabelError) = (JobChunkOutcome.Unknown, null);
    }

    public void Reject(string where, string message)
    {
        if (!CountRow()) return;
        Add(new RowError(Rows, where, message));
        if (!skipInvalid)
        {
            DropPassthrough();
            return;
        }
        if (++InvalidRows > maxInvalid)
        {
            Fail("", $"More than {maxInvalid} rows are invalid (Jobs:MaxInvalidRows); nothing was stored. Is it the right file?");
            return;
        }
        FeatureBytes.MarkInvalid(NextSlot());
        KeepPassthrough();
        Pending++;
    }

    /// <summary>A problem that ends reading (malformed JSON, an unreadable header, an endless line).</summary>
    public void Fail(string where, string message)
    {
        var error = new RowError(NextRow, where, message);
        Errors.Add(error);
        // Always reported, after the first row errors: it is why the upload is refused.
        FirstErrors.Add(error);
        _stopped = true;
    }

    /// <summary>Empties the batch once it is stored; skipping, its errors go with it.</summary>
    public void Clear()
    {
        Pending = 0;
        _labels.Clear();
        _passthrough.ResetWrittenCount();
        (_committedPassthrough, _rowValues) = (0, 0);
        if (skipInvalid) Errors.Clear();
    }

    private void Add(RowError error)
    {
        Errors.Add(error);
        if (FirstErrors.Count < MaxErrors) FirstErrors.Add(error);
    }

    private bool CountRow()
    {
        if (Rows >= maxRows)
        {
            // Fail stops the upload; the check keeps a row counted past the limit twice from reporting it twice.
            if (FirstErrors.Count == 0 || FirstErrors[^1].Message != TooMany)
                Fail("", TooMany);
            return false;
        }
        Rows++;
        return true;
    }

    private string TooMany => $"A job may have at most {maxRows} rows.";
}
