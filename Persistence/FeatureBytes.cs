using System.Runtime.InteropServices;

namespace FlightDelay.Persistence;

/// <summary>A stored row's 37 features are its float32 values' bytes, little-endian: 148 bytes, no parsing on read.</summary>
public static class FeatureBytes
{
    public const int FeatureCount = 37;
    public const int RowBytes = FeatureCount * sizeof(float);

    static FeatureBytes()
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("Stored features are little-endian float32.");
    }

    public static ReadOnlySpan<byte> Of(ReadOnlySpan<float> row) => MemoryMarshal.AsBytes(row);

    public static void Read(ReadOnlySpan<byte> stored, Span<float> row)
    {
        if (stored.Length != RowBytes)
            throw new InvalidDataException($"A stored row has {stored.Length} bytes; {RowBytes} expected.");
        MemoryMarshal.Cast<byte, float>(stored).CopyTo(row);
    }
}
