using System.Buffers.Binary;

namespace FlightDelay.Persistence;

/// <summary>
/// How a chunk's results are stored: one blob per chunk, 5 bytes a row in row order, the probability as a
/// big-endian float32 (PostgreSQL's own <c>float4send</c> form, so SQL can build and read it) and the delayed
/// flag as 0 or 1 (or <see cref="NotScored"/> for an invalid row skipped at intake: it has no result, only its place).
/// A million results take 5 MB in 20 rows instead of a million indexed rows: storing them is one
/// insert per chunk, which is what lets a job finish in less time than a COPY of its rows would take.
/// </summary>
public static class ResultBytes
{
    public const int RowBytes = 5;

    /// <summary>The flag byte of a row that was invalid at intake and has no prediction; its probability is NaN.</summary>
    public const byte NotScored = 0xFF;

    public static int RowCount(ReadOnlySpan<byte> blob) =>
        blob.Length % RowBytes == 0 ? blob.Length / RowBytes : throw new InvalidDataException($"A stored result blob has {blob.Length} bytes, not whole rows of {RowBytes}.");

    public static void Write(Span<byte> blob, int row, bool delayed, float probability)
    {
        var target = blob.Slice(row * RowBytes, RowBytes);
        BinaryPrimitives.WriteSingleBigEndian(target, probability);
        target[4] = delayed ? (byte)1 : (byte)0;
    }

    /// <summary>Marks a row as having no prediction: it was invalid at intake (<see cref="FeatureBytes.IsInvalid"/>).</summary>
    public static void WriteNotScored(Span<byte> blob, int row)
    {
        var target = blob.Slice(row * RowBytes, RowBytes);
        BinaryPrimitives.WriteSingleBigEndian(target, float.NaN);
        target[4] = NotScored;
    }

    /// <summary>Whether a row has a prediction; readers skip the rows that do not (they are the job's row errors).</summary>
    public static bool IsScored(ReadOnlySpan<byte> blob, int row) => blob[row * RowBytes + 4] != NotScored;

    public static (bool Delayed, float Probability) Read(ReadOnlySpan<byte> blob, int row)
    {
        var source = blob.Slice(row * RowBytes, RowBytes);
        return (source[4] != 0, BinaryPrimitives.ReadSingleBigEndian(source));
    }
}
