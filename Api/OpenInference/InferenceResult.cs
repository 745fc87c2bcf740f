using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.Metadata;

namespace FlightDelay.Api.OpenInference;

/// <summary>
/// The <c>$inference_response</c> for a scored request: outputs <c>label</c> (INT64) and <c>probability</c> (FP32), each of
/// shape <c>[n, 1]</c>, in the order requested. Outputs asked for as binary follow the JSON object as raw little-endian
/// bytes, with <c>Inference-Header-Content-Length</c> giving the JSON's length (Triton's binary tensor data extension).
/// </summary>
internal sealed class InferenceResult(string modelName, string modelVersion, string id, IReadOnlyList<OutputRequest> outputs, Prediction[] predictions)
    : IResult, IEndpointMetadataProvider
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        var rows = predictions.Length;
        var json = new ArrayBufferWriter<byte>(256 + rows * 16 * outputs.Count);
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteString("model_name"u8, modelName);
            writer.WriteString("model_version"u8, modelVersion);
            writer.WriteString("id"u8, id);
            writer.WriteStartArray("outputs"u8);
            foreach (var output in outputs)
                WriteOutput(writer, output, rows);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        var binaryBytes = outputs.Where(o => o.Binary).Sum(o => BytesPerRow(o.Name) * (long)rows);
        if (binaryBytes == 0)
        {
            response.ContentType = "application/json";
            response.ContentLength = json.WrittenCount;
            await response.Body.WriteAsync(json.WrittenMemory, httpContext.RequestAborted);
            return;
        }

        response.ContentType = "application/octet-stream";
        response.Headers[InferenceRequestReader.HeaderLengthHeader] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
        response.ContentLength = json.WrittenCount + binaryBytes;
        await response.Body.WriteAsync(json.WrittenMemory, httpContext.RequestAborted);
        foreach (var output in outputs.Where(o => o.Binary))
        {
            var size = BytesPerRow(output.Name) * rows;
            var buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                FillBinary(output.Name, buffer.AsSpan(0, size));
                await response.Body.WriteAsync(buffer.AsMemory(0, size), httpContext.RequestAborted);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private void WriteOutput(Utf8JsonWriter writer, OutputRequest output, int rows)
    {
        writer.WriteStartObject();
        writer.WriteString("name"u8, output.Name);
        writer.WriteString("datatype"u8, output.Name == InferenceRequestReader.LabelOutput ? "INT64"u8 : "FP32"u8);
        writer.WriteStartArray("shape"u8);
        writer.WriteNumberValue(rows);
        writer.WriteNumberValue(1);
        writer.WriteEndArray();
        if (output.Binary)
        {
            writer.WriteStartObject("parameters"u8);
            writer.WriteNumber("binary_data_size"u8, BytesPerRow(output.Name) * (long)rows);
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteStartArray("data"u8);
            foreach (var p in predictions)
            {
                if (output.Name == InferenceRequestReader.LabelOutput)
                    writer.WriteNumberValue(p.Delayed ? 1 : 0);
                else
                    writer.WriteNumberValue(p.Probability);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private void FillBinary(string output, Span<byte> bytes)
    {
        for (var i = 0; i < predictions.Length; i++)
        {
            if (output == InferenceRequestReader.LabelOutput)
                BinaryPrimitives.WriteInt64LittleEndian(bytes[(i * sizeof(long))..], predictions[i].Delayed ? 1 : 0);
            else
                BinaryPrimitives.WriteSingleLittleEndian(bytes[(i * sizeof(float))..], predictions[i].Probability);
        }
    }

    private static int BytesPerRow(string output) => output == InferenceRequestReader.LabelOutput ? sizeof(long) : sizeof(float);

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(InferenceResponse), ["application/json", "application/octet-stream"]));
}
