using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Scoring;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.OpenInference;

/// <summary>An output the client asked for, and whether it wants it as binary tensor data.</summary>
internal readonly record struct OutputRequest(string Name, bool Binary);

/// <summary>What a client got wrong, with the HTTP status the protocol answers it with.</summary>
internal sealed record InferenceError(int Status, string Message);

/// <summary>A validated inference request: <see cref="Rows"/> rows of 37 features, back to back, in a pooled buffer.</summary>
internal sealed class InferenceInput(string? id, int rows, float[] features, IReadOnlyList<OutputRequest> outputs) : IDisposable
{
    private float[]? _features = features;

    public string? Id { get; } = id;

    public int Rows { get; } = rows;

    public ReadOnlyMemory<float> Features => (_features ?? throw new ObjectDisposedException(nameof(InferenceInput))).AsMemory(0, Rows * FlightSchema.FeatureCount);

    public IReadOnlyList<OutputRequest> Outputs { get; } = outputs;

    public void Dispose()
    {
        if (_features is { } rented)
            ArrayPool<float>.Shared.Return(rented);
        _features = null;
    }
}

/// <summary>
/// Reads a V2 inference request: a JSON object, optionally followed by binary tensor data (Triton's binary tensor data
/// extension, which the Python <c>tritonclient</c> uses by default), and checks it against the model's one input,
/// <c>features</c>: FP32, shape <c>[n, 37]</c>. Every mistake is an <see cref="InferenceError"/>, never an exception.
/// </summary>
internal static class InferenceRequestReader
{
    public const string HeaderLengthHeader = "Inference-Header-Content-Length";
    public const string FeaturesInput = "features";
    public const string LabelOutput = "label";
    public const string ProbabilityOutput = "probability";

    private const int Width = FlightSchema.FeatureCount;
    private const string InputShape = "'features', FP32, shape [n, 37]";

    public static async ValueTask<(InferenceInput? Input, InferenceError? Error)> ReadAsync(HttpRequest request, long maxBytes, int maxRows)
    {
        if (!AcceptsContentType(request.ContentType))
            return Fail(StatusCodes.Status415UnsupportedMediaType,
                $"Content-Type '{request.ContentType}' is not supported; send application/json (or application/octet-stream with binary tensor data).");
        if (request.ContentLength > maxBytes)
            return Fail(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {maxBytes} bytes.");

        long? headerLength = null;
        if (request.Headers.TryGetValue(HeaderLengthHeader, out var header))
        {
            if (!long.TryParse(header.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var length) || length <= 0)
                return Fail(StatusCodes.Status400BadRequest, $"{HeaderLengthHeader} must be a positive whole number of bytes; received '{header}'.");
            headerLength = length;
        }

        return await RequestBody.ReadWholeAsync(request, maxBytes, (headerLength, maxRows),
            static (body, limits) => Parse(body, limits.headerLength, limits.maxRows),
            static max => Fail(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than the limit of {max} bytes."),
            static ex => Fail(ex.StatusCode, ex.Message));
    }

    /// <summary>Parses and validates a whole body: the JSON header, then any binary tensor data after it.</summary>
    public static (InferenceInput? Input, InferenceError? Error) Parse(ReadOnlySequence<byte> body, long? headerLength, int maxRows)
    {
        if (body.IsEmpty)
            return Invalid("The body is empty; expected an inference request: {\"inputs\": [{\"name\": \"features\", \"datatype\": \"FP32\", \"shape\": [n, 37], \"data\": [...]}]}.");

        var json = body;
        var binary = ReadOnlySequence<byte>.Empty;
        if (headerLength is { } length)
        {
            if (length > body.Length)
                return Invalid($"{HeaderLengthHeader} is {length} bytes but the body has only {body.Length}.");
            json = body.Slice(0, length);
            binary = body.Slice(length);
        }
        if (json.FirstSpan.StartsWith("\uFEFF"u8))
            json = json.Slice(3);

        var (request, jsonError) = Deserialize(json, hasHeaderLength: headerLength is not null);
        if (jsonError is not null)
            return Invalid(jsonError);

        if (NonScalarParameter(request!) is { } parameterError)
            return Invalid(parameterError);

        var (outputs, outputError) = RequestedOutputs(request!);
        if (outputError is not null)
            return Invalid(outputError);

        if (request!.Inputs is not { Count: > 0 } inputs)
            return Invalid($"'inputs' must hold one tensor: {InputShape}.");
        if (inputs.Count > 1)
            return Invalid($"The model takes one input, {InputShape}; received {inputs.Count} inputs.");
        if (inputs[0] is not { } input)
            return Invalid($"inputs[0] is null; expected {InputShape}.");
        if (input.Name != FeaturesInput)
            return Invalid(input.Name is null
                ? $"inputs[0].name is required; the model's input is {InputShape}."
                : $"Unknown input '{input.Name}'; the model's input is {InputShape}.");
        if (TensorType.Of(input.Datatype) is not { } type)
            return Invalid($"Input 'features' must have datatype {string.Join(", ", TensorType.Names)}; received {Quote(input.Datatype)}.");
        if (input.Shape is not [var n, Width] || n < 1)
            return Invalid($"Input 'features' must have shape [n, 37] with n >= 1; received {ShapeText(input.Shape)}.");
        if (n > maxRows)
            return Invalid($"At most {maxRows} rows per request; received {n}. Submit a batch job (POST /v1/jobs) for more.");
        if (input.Parameters?.ContainsKey("shared_memory_region") == true)
            return Invalid("The shared-memory extension is not supported; send the tensor as 'data' or as binary tensor data.");

        var rows = (int)n;
        var features = ArrayPool<float>.Shared.Rent(rows * Width);
        var error = input.Parameters?.TryGetValue("binary_data_size", out var size) == true
            ? ReadBinary(size, input.Data, binary, headerLength is not null, rows, type, features)
            : binary.Length > 0
                ? $"The body has {binary.Length} bytes after the JSON object but no input declares 'binary_data_size'."
                : ReadJsonData(input.Data, rows, type, features);
        if (error is not null)
        {
            ArrayPool<float>.Shared.Return(features);
            return Invalid(error);
        }
        return (new InferenceInput(request.Id, rows, features, outputs!), null);
    }

    private static (InferenceRequest? Request, string? Error) Deserialize(ReadOnlySequence<byte> json, bool hasHeaderLength)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
        try
        {
            var request = JsonSerializer.Deserialize(ref reader, OpenInferenceJsonContext.Default.InferenceRequest);
            if (request is null)
                return (null, "The body is null; expected an inference request object.");
            return HasTrailingContent(ref reader)
                ? (null, hasHeaderLength
                    ? $"Unexpected content after the JSON object within the {HeaderLengthHeader} bytes."
                    : $"Unexpected content after the JSON object; binary tensor data needs the {HeaderLengthHeader} header.")
                : (request, null);
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 0 } path ? $" at {path}" : "";
            var position = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : "";
            var message = ex.Message.IndexOf(". ", StringComparison.Ordinal) is var end and >= 0 ? ex.Message[..(end + 1)] : ex.Message;
            return (null, $"Invalid JSON{where}{position}: {message}");
        }
    }

    private static bool HasTrailingContent(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (JsonException)
        {
            return true;
        }
    }

    /// <summary>
    /// The protocol's <c>$parameter</c> is <c>$string : $string | $number | $boolean</c>, on the request, each input and
    /// each output: anything else is not a parameter the protocol can carry, and ignoring it would hide a client's mistake.
    /// </summary>
    private static string? NonScalarParameter(InferenceRequest request)
    {
        if (NonScalar(request.Parameters, "the request") is { } error)
            return error;
        for (var i = 0; i < (request.Inputs?.Count ?? 0); i++)
        {
            if (NonScalar(request.Inputs![i]?.Parameters, $"inputs[{i}]") is { } inputError)
                return inputError;
        }
        for (var i = 0; i < (request.Outputs?.Count ?? 0); i++)
        {
            if (NonScalar(request.Outputs![i]?.Parameters, $"outputs[{i}]") is { } outputError)
                return outputError;
        }
        return null;

        static string? NonScalar(Dictionary<string, JsonElement>? parameters, string where)
        {
            foreach (var (name, value) in parameters ?? [])
            {
                if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False))
                    return $"Parameter '{name}' of {where} is {Describe(value)}; a parameter's value is a string, number or boolean.";
            }
            return null;
        }
    }

    private static (IReadOnlyList<OutputRequest>? Outputs, string? Error) RequestedOutputs(InferenceRequest request)
    {
        // Triton's binary tensor data extension: a request-wide default, overridden per output by "binary_data".
        var binaryByDefault = false;
        if (request.Parameters?.TryGetValue("binary_data_output", out var all) == true && !TryGetBool(all, out binaryByDefault))
            return (null, "Parameter 'binary_data_output' must be true or false.");

        if (request.Outputs is not { Count: > 0 } requested)
            return ([new(LabelOutput, binaryByDefault), new(ProbabilityOutput, binaryByDefault)], null);

        var outputs = new List<OutputRequest>(requested.Count);
        for (var i = 0; i < requested.Count; i++)
        {
            if (requested[i] is not { } output)
                return (null, $"outputs[{i}] is null; expected {{\"name\": \"label\"}} or {{\"name\": \"probability\"}}.");
            if (output.Name is not (LabelOutput or ProbabilityOutput))
                return (null, $"Unknown output {Quote(output.Name)}; the model's outputs are 'label' (INT64) and 'probability' (FP32).");
            if (outputs.Exists(o => o.Name == output.Name))
                return (null, $"Output '{output.Name}' is requested more than once.");

            var binary = binaryByDefault;
            var parameters = output.Parameters;
            if (parameters?.TryGetValue("binary_data", out var flag) == true && !TryGetBool(flag, out binary))
                return (null, $"Parameter 'binary_data' of output '{output.Name}' must be true or false.");
            if (parameters?.TryGetValue("classification", out var classes) == true && !(classes.ValueKind == JsonValueKind.Number && classes.TryGetInt64(out var count) && count == 0))
                return (null, "The classification extension is not supported; request 'label' and 'probability'.");
            if (parameters?.ContainsKey("shared_memory_region") == true)
                return (null, "The shared-memory extension is not supported.");
            outputs.Add(new(output.Name, binary));
        }
        return (outputs, null);
    }

    // data: row-major, flat ([n * 37 numbers]) or one array per row ([[37 numbers], ...]), as the protocol allows.
    private static string? ReadJsonData(JsonElement? data, int rows, TensorType type, Span<float> features)
    {
        if (data is not { ValueKind: JsonValueKind.Array } array)
        {
            return data is null or { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined }
                ? "Input 'features' needs 'data' (or binary tensor data with 'binary_data_size')."
                : $"Input 'features' has 'data' of {Describe(data.Value)}; expected an array of numbers.";
        }

        var expected = rows * Width;
        var count = 0;
        var index = 0;
        bool? nested = null;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Array)
            {
                if (nested == false)
                    return $"data[{index}] is an array but earlier elements are numbers; send 'data' flat or as one array per row, not mixed.";
                nested = true;
                var inner = 0;
                foreach (var value in item.EnumerateArray())
                {
                    if (!type.TryRead(value, out var f))
                        return $"data[{index}][{inner}] is {NotElement(value)}; {type.Rule}.";
                    if (count < expected)
                        features[count] = f;
                    count++;
                    inner++;
                }
                if (inner != Width)
                    return $"data[{index}] has {inner} numbers; each row of shape [n, 37] has 37.";
            }
            else
            {
                if (nested == true)
                    return $"data[{index}] is {Describe(item)} but earlier elements are rows; send 'data' flat or as one array per row, not mixed.";
                nested = false;
                if (!type.TryRead(item, out var f))
                    return $"data[{index}] is {NotElement(item)}; {type.Rule}.";
                if (count < expected)
                    features[count] = f;
                count++;
            }
            index++;
        }
        return count == expected
            ? null
            : $"'data' holds {count} numbers; shape [{rows}, 37] needs {expected}.";
    }

    private static string? ReadBinary(JsonElement size, JsonElement? data, ReadOnlySequence<byte> binary, bool hasHeaderLength, int rows, TensorType type, Span<float> features)
    {
        var expected = (long)rows * Width * type.Size;
        if (size.ValueKind != JsonValueKind.Number || !size.TryGetInt64(out var declared))
            return "Parameter 'binary_data_size' must be a whole number of bytes.";
        if (!hasHeaderLength)
            return $"Binary tensor data needs the {HeaderLengthHeader} header (the length of the JSON object).";
        if (data is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) })
            return "Input 'features' has both 'data' and 'binary_data_size'; send one.";
        if (declared != expected)
            return $"'binary_data_size' is {declared} bytes; shape [{rows}, 37] of {type.Name} needs {expected}.";
        if (binary.Length != declared)
            return $"The body has {binary.Length} bytes of binary tensor data; 'binary_data_size' says {declared}.";

        var values = features[..(rows * Width)];
        if (type == TensorType.Fp32)
        {
            // Little-endian, row-major, no padding: exactly the layout of the float buffer on a little-endian machine.
            binary.CopyTo(MemoryMarshal.AsBytes(values));
            if (!BitConverter.IsLittleEndian)
            {
                var bits = MemoryMarshal.Cast<float, int>(values);
                BinaryPrimitives.ReverseEndianness(bits, bits);
            }
        }
        else
        {
            var bytes = binary.IsSingleSegment ? binary.FirstSpan : binary.ToArray();
            for (var i = 0; i < values.Length; i++)
                values[i] = type.Decode(bytes.Slice(i * type.Size, type.Size));
        }
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                return $"Element {i} of the binary tensor data (row {i / Width}, feature {i % Width}) is not a finite number.";
        }
        return null;
    }


    private static bool TryGetBool(JsonElement value, out bool result)
    {
        result = value.ValueKind == JsonValueKind.True;
        return value.ValueKind is JsonValueKind.True or JsonValueKind.False;
    }

    // JSON; octet-stream, as Triton's clients send with binary data; none, as tritonclient sends without binary data; and
    // curl's default for -d, as the KServe and Triton documentation's examples send. The body is read as JSON whatever it says.
    private static bool AcceptsContentType(string? contentType) =>
        RequestBody.IsJson(contentType)
        || (MediaTypeHeaderValue.TryParse(contentType, out var media)
            && (media.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase)
                || media.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)));

    private static string ShapeText(IReadOnlyList<long>? shape) =>
        shape is null ? "no shape" : $"[{string.Join(", ", shape)}]";

    private static string Quote(string? value) => value is null ? "none" : $"'{value}'";

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.Number => "a number",
        _ => value.ValueKind.ToString(),
    };

    private static string NotElement(JsonElement value) =>
        value.ValueKind == JsonValueKind.Number ? value.GetRawText() : Describe(value);

    private static (InferenceInput?, InferenceError?) Invalid(string message) => Fail(StatusCodes.Status400BadRequest, message);

    private static (InferenceInput?, InferenceError?) Fail(int status, string message) => (null, new InferenceError(status, message));
}
