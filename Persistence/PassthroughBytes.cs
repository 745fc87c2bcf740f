using System.Buffers;
using System.Text;

namespace FlightDelay.Persistence;

/// <summary>
/// How a chunk's passed-through column values are stored: for each row, for each column, the value's UTF-8 length as a
/// 7-bit varint, then its bytes. Rows and columns are implied by the chunk's row count and the job's column list.
/// </summary>
public static class PassthroughBytes
{
    /// <summary>Appends one value.</summary>
    public static void Write(IBufferWriter<byte> writer, ReadOnlySpan<char> value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        var span = writer.GetSpan(5 + length);
        var used = 0;
        for (var rest = (uint)length; ; rest >>= 7)
        {
            span[used++] = (byte)(rest < 0x80 ? rest : (rest & 0x7F) | 0x80);
            if (rest < 0x80) break;
        }
        used += Encoding.UTF8.GetBytes(value, span[used..]);
        writer.Advance(used);
    }

    /// <summary>Reads the next value's UTF-8 bytes and moves <paramref name="blob"/> past it.</summary>
    /// <exception cref="InvalidDataException">The blob ends inside a value.</exception>
    public static ReadOnlySpan<byte> Read(ref ReadOnlySpan<byte> blob)
    {
        int length = 0, shift = 0, used = 0;
        while (true)
        {
            if (used == blob.Length || shift > 28) throw new InvalidDataException("A stored passthrough value is cut short.");
            var b = blob[used++];
            length |= (b & 0x7F) << shift;
            if (b < 0x80) break;
            shift += 7;
        }
        if (blob.Length - used < length) throw new InvalidDataException("A stored passthrough value is cut short.");
        var value = blob.Slice(used, length);
        blob = blob[(used + length)..];
        return value;
    }
}
