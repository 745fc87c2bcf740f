using System.Buffers.Binary;
using System.Text.Json;

namespace FlightDelay.Api.OpenInference;

/// <summary>
/// The input datatypes the <c>features</c> tensor may come in, each turned into the model's FP32: FP32 itself, FP64 and
/// INT64 (numpy's defaults for float and int arrays), INT32, and BOOL (one-hot as true/false). A value that the type
/// cannot hold (a fraction in an INT tensor, a non-finite number, one out of FP32's range) is refused.
/// </summary>
internal sealed class TensorType
{
    public static readonly TensorType Fp32 = new("FP32", 4, "FP32 elements must be finite numbers",
        static b => BinaryPrimitives.ReadSingleLittleEndian(b), Number);
    public static readonly TensorType Fp64 = new("FP64", 8, "FP64 elements must be finite numbers within FP32's range",
        static b => Narrow(BinaryPrimitives.ReadDoubleLittleEndian(b)), Number);
    public static readonly TensorType Int64 = new("INT64", 8, "INT64 elements must be whole numbers",
        static b => BinaryPrimitives.ReadInt64LittleEndian(b), Whole);
    public static readonly TensorType Int32 = new("INT32", 4, "INT32 elements must be whole numbers",
        static b => BinaryPrimitives.ReadInt32LittleEndian(b), Whole);
    public static readonly TensorType Bool = new("BOOL", 1, "BOOL elements must be true or false",
        static b => b[0] == 0 ? 0 : 1, Boolean);

    private static readonly TensorType[] All = [Fp32, Fp64, Int64, Int32, Bool];

    private readonly Func<JsonElement, float?> _read;
    private readonly DecodeBytes _decode;

    private TensorType(string name, int size, string rule, DecodeBytes decode, Func<JsonElement, float?> read) =>
        (Name, Size, Rule, _decode, _read) = (name, size, rule, decode, read);

    private delegate float DecodeBytes(ReadOnlySpan<byte> bytes);

    /// <summary>The protocol's datatype name.</summary>
    public string Name { get; }

    /// <summary>Bytes per element in binary tensor data (little-endian, as the protocol says).</summary>
    public int Size { get; }

    /// <summary>What an element must be, for error messages.</summary>
    public string Rule { get; }

    public static IEnumerable<string> Names => All.Select(t => t.Name);

    /// <summary>The type named <paramref name="datatype"/>, or null for one the model does not take.</summary>
    public static TensorType? Of(string? datatype) => All.FirstOrDefault(t => t.Name == datatype);

    /// <summary>One JSON element as the model's FP32; false when the type cannot hold it.</summary>
    public bool TryRead(JsonElement value, out float result)
    {
        result = _read(value) is { } f && float.IsFinite(f) ? f : float.NaN;
        return float.IsFinite(result);
    }

    /// <summary>One binary element (NaN when out of range, which the reader then refuses).</summary>
    public float Decode(ReadOnlySpan<byte> bytes) => _decode(bytes);

    private static float? Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) ? Narrow(d) : null;

    private static float? Whole(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) ? n : null;

    private static float? Boolean(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        _ => null,
    };

    private static float Narrow(double d) => double.IsFinite(d) && Math.Abs(d) <= float.MaxValue ? (float)d : float.NaN;
}
