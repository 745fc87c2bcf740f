using System.Buffers;
using System.Runtime.InteropServices;

namespace FlightDelay.Persistence;

/// <summary>
/// How a chunk's input rows are stored: one blob per chunk, each row either sparse (all values 0 or 1 with at
/// most four ones, as every named flight is: a count byte and the indices of the ones, 4 bytes in all) or dense
/// (a marker byte and the 37 float32 values, little-endian), or a placeholder for an invalid row skipped at intake (one
/// marker byte; it decodes as 37 NaN, which no valid row holds). A million named flights take 4 MB, not 148.
/// </summary>
public static class FeatureBytes
{
    public const int FeatureCount = 37;
    private const int DenseBytes = FeatureCount * sizeof(float);
    private const byte Dense = 0xFF;
    private const byte Invalid = 0xFE;
    private const int MaxOnes = 4;

    static FeatureBytes()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Stored features are little-endian float32.");
    }

    /// <summary>Encodes rows of 37 floats, back to back.</summary>
    public static byte[] Encode(ReadOnlySpan<float> rows)
    {
        if (rows.Length % FeatureCount != 0)
            throw new ArgumentException("Rows must be whole rows of 37 features.", nameof(rows));
        var buffer = new ArrayBufferWriter<byte>(rows.Length / FeatureCount * (MaxOnes + 1));
        Span<byte> ones = stackalloc byte[MaxOnes];
        for (var offset = 0; offset < rows.Length; offset += FeatureCount)
        {
            var row = rows.Slice(offset, FeatureCount);
            if (IsInvalid(row))
            {
                buffer.GetSpan(1)[0] = Invalid;
                buffer.Advance(1);
            }
            else if (TrySparse(row, ones, out var count))
            {
                var target = buffer.GetSpan(1 + count);
                target[0] = (byte)count;
                ones[..count].CopyTo(target[1..]);
                buffer.Advance(1 + count);
            }
            else
            {
                var target = buffer.GetSpan(1 + DenseBytes);
                target[0] = Dense;
                MemoryMarshal.AsBytes(row).CopyTo(target[1..]);
                buffer.Advance(1 + DenseBytes);
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes a blob into <paramref name="rows"/> (37 floats a row); returns the number of rows.</summary>
    public static int Decode(ReadOnlySpan<byte> blob, Span<float> rows)
    {
        var count = 0;
        while (!blob.IsEmpty)
        {
            if ((count + 1) * FeatureCount > rows.Length)
                throw new InvalidDataException("A stored chunk has more rows than expected.");
            var row = rows.Slice(count * FeatureCount, FeatureCount);
            var tag = blob[0];
            if (tag == Dense && blob.Length >= 1 + DenseBytes)
            {
                MemoryMarshal.Cast<byte, float>(blob.Slice(1, DenseBytes)).CopyTo(row);
                blob = blob[(1 + DenseBytes)..];
            }
            else if (tag == Invalid)
            {
                MarkInvalid(row);
                blob = blob[1..];
            }
            else if (tag <= MaxOnes && blob.Length >= 1 + tag)
            {
                row.Clear();
                foreach (var index in blob.Slice(1, tag))
                {
                    if (index >= FeatureCount) throw new InvalidDataException($"A stored row names feature {index}; there are {FeatureCount}.");
                    row[index] = 1;
                }
                blob = blob[(1 + tag)..];
            }
            else
            {
                throw new InvalidDataException($"A stored chunk is corrupt at row {count + 1} (tag {tag}, {blob.Length} bytes left).");
            }
            count++;
        }
        return count;
    }

    /// <summary>Makes a row the placeholder of an invalid row (37 NaN): it keeps its row number and is never scored.</summary>
    public static void MarkInvalid(Span<float> row) => row.Fill(float.NaN);

    /// <summary>Whether a row is the placeholder of an invalid row (valid rows hold finite numbers only).</summary>
    public static bool IsInvalid(ReadOnlySpan<float> row) => float.IsNaN(row[0]);

    private static bool TrySparse(ReadOnlySpan<float> row, Span<byte> ones, out int count)
    {
        count = 0;
        for (var i = 0; i < row.Length; i++)
        {
            if (row[i] == 0 && !float.IsNegative(row[i])) continue;
            if (row[i] != 1 || count == MaxOnes) return false;
            ones[count++] = (byte)i;
        }
        return true;
    }
}
