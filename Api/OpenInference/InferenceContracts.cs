using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlightDelay.Api.OpenInference;

// The Open Inference Protocol (KServe / Triton "V2") JSON objects, named as the protocol names them (snake_case,
// case-sensitive). Property names are explicit so the wire format does not depend on any naming policy.

/// <summary><c>GET /v2</c>: <c>$metadata_server_response</c>.</summary>
public sealed record ServerMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] IReadOnlyList<string> Extensions);

/// <summary><c>GET /v2/health/live</c>.</summary>
public sealed record ServerLive([property: JsonPropertyName("live")] bool Live);

/// <summary><c>GET /v2/health/ready</c>.</summary>
public sealed record ServerReady([property: JsonPropertyName("ready")] bool Ready);

/// <summary><c>GET /v2/models/{model}/ready</c>: <c>$ready_model_response</c>.</summary>
public sealed record ModelReady(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ready")] bool Ready);

/// <summary><c>$metadata_tensor</c>: variable dimensions are -1.</summary>
public sealed record TensorMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape);

/// <summary><c>GET /v2/models/{model}</c>: <c>$metadata_model_response</c>.</summary>
public sealed record ModelMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorMetadata> Outputs);

/// <summary><c>$inference_request</c>. Unknown members are ignored (protocol extensions may add some); the known ones are typed strictly.</summary>
public sealed record InferenceRequest(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters,
    [property: JsonPropertyName("inputs")] IReadOnlyList<RequestInput?>? Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<RequestOutput?>? Outputs);

/// <summary><c>$request_input</c>: <c>data</c> flat or nested in row-major order, or sent as binary after the JSON (<c>binary_data_size</c>).</summary>
public sealed record RequestInput(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("shape")] IReadOnlyList<long>? Shape,
    [property: JsonPropertyName("datatype")] string? Datatype,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters,
    [property: JsonPropertyName("data")] JsonElement? Data);

/// <summary><c>$request_output</c>: an output to return; <c>parameters.binary_data</c> asks for it as binary.</summary>
public sealed record RequestOutput(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("parameters")] Dictionary<string, JsonElement>? Parameters);

/// <summary><c>$inference_response</c>, for the OpenAPI document (the handler writes it with <see cref="InferenceResult"/>).</summary>
public sealed record InferenceResponse(
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("outputs")] IReadOnlyList<ResponseOutput> Outputs);

/// <summary><c>$response_output</c>, for the OpenAPI document.</summary>
public sealed record ResponseOutput(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("data")] IReadOnlyList<double> Data);

/// <summary>The protocol's error response (<c>$inference_error_response</c> and its kin): <c>{"error": "..."}</c>, <c>application/json</c>.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] string Error);

[JsonSourceGenerationOptions(
    AllowDuplicateProperties = false,
    NumberHandling = JsonNumberHandling.Strict,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    MaxDepth = 16)]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ServerLive))]
[JsonSerializable(typeof(ServerReady))]
[JsonSerializable(typeof(ModelReady))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(InferenceRequest))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class OpenInferenceJsonContext : JsonSerializerContext;
