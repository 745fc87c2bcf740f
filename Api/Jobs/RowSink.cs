using FlightDelay.Scoring;

namespace FlightDelay.Api.Jobs;

/// <summary>A row-level problem in a submission: 1-based row number, where it is, and what is wrong.</summary>
public sealed record RowError(int Row, string Where, string Message);

/// <summary>
/// Where the upload parsers put rows: a batch of feature vectors that the intake stores when full, plus the
/// row errors found so far. The parsers stop adding once the batch is full or enough errors are known.
/// </summary>
internal sealed class RowSink(int batchRows, int maxRows)
{
    public const int MaxErrors = 20;

    private readonly float[] _batch = new float[batchRows * FlightSchema.FeatureCount];

    public List<RowError> Errors { get; } = [];

    /// <summary>Rows accepted so far (valid or not): the next row's number is this plus one.</summary>
    public int Rows { get; private set; }

    /// <summary>Rows in the current batch.</summary>
    public int Pending { get; private set; }

    public bool IsFull => Pending == batchRows;

    private bool _stopped;

    /// <summary>Enough errors to report, or one that makes the rest unreadable.</summary>
    public bool ShouldStop => _stopped || Errors.Count >= MaxErrors;

    public int NextRow => Rows + 1;

    public ReadOnlyMemory<float> Batch => _batch.AsMemory(0, Pending * FlightSchema.FeatureCount);

    /// <summary>Row number of the first row in <see cref="Batch"/>.</summary>
    public int BatchFirstRow => Rows - Pending + 1;

    /// <summary>The next row's feature slot; fill it, then call <see cref="Commit"/> (or <see cref="Reject"/>).</summary>
    public Span<float> NextSlot() => _batch.AsSpan(Pending * FlightSchema.FeatureCount, FlightSchema.FeatureCount);

    public void Commit()
    {
        if (!CountRow()) return;
        Pending++;
    }

    public void Reject(string where, string message)
    {
        if (!CountRow()) return;
        Errors.Add(new RowError(Rows, where, message));
    }

    /// <summary>A problem that ends reading (malformed JSON, an unreadable header, an endless line).</summary>
    public void Fail(string where, string message)
    {
        Errors.Add(new RowError(NextRow, where, message));
        _stopped = true;
    }

    public void Clear() => Pending = 0;

    private bool CountRow()
    {
        if (Rows >= maxRows)
        {
            if (Errors.Count == 0 || Errors[^1].Message != TooMany)
                Errors.Add(new RowError(Rows + 1, "", TooMany));
            return false;
        }
        Rows++;
        return true;
    }

    private string TooMany => $"A job may have at most {maxRows} rows.";
}
