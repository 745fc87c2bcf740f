using System.Reflection;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Predictions;
using FlightDelay.Processing.Models;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.OpenInference;

/// <summary>
/// The Open Inference Protocol (KServe V2 / Triton) over REST, so KServe and Triton clients, gateways and
/// benchmark tools work unchanged. One model, <c>flight-delay</c>, whose version is the model version;
/// input <c>features</c> (FP32 <c>[n, 37]</c>), outputs <c>label</c> (INT64 <c>[n, 1]</c>) and <c>probability</c>
/// (FP32 <c>[n, 1]</c>). Errors are the protocol's <c>application/json</c> <c>{"error": "..."}</c>, as its OpenAPI
/// declares them (not RFC 9457 problems: KServe and Triton clients read the <c>error</c> member of exactly that shape).
/// </summary>
public static class OpenInferenceEndpoints
{
    public const string ModelName = "flight-delay";

    /// <summary>The protocol's <c>&lt;project&gt;_&lt;format&gt;</c> platform name: ML.NET, its zip model format.</summary>
    public const string Platform = "mlnet_zip";

    private static readonly string ServerVersion =
        typeof(OpenInferenceEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";

    private static readonly TensorMetadata[] Inputs = [new(InferenceRequestReader.FeaturesInput, "FP32", [-1, FlightSchema.FeatureCount])];

    private static readonly TensorMetadata[] Outputs =
    [
        new(InferenceRequestReader.LabelOutput, "INT64", [-1, 1]),
        new(InferenceRequestReader.ProbabilityOutput, "FP32", [-1, 1]),
    ];

    public static IEndpointRouteBuilder MapOpenInference(this IEndpointRouteBuilder app)
    {
        var v2 = app.MapGroup("/v2").WithTags("Open Inference Protocol");

        v2.MapGet("", GetServerMetadata).WithName("V2ServerMetadata").WithSummary("Server name, version and protocol extensions.")
            .WithDescription("The protocol's server metadata ($metadata_server_response). The one extension is Triton's binary_tensor_data.")
            .Produces<ServerMetadata>(StatusCodes.Status200OK, "application/json");
        // Probes (Kubernetes, KServe) send no API key and must never be throttled.
        v2.MapGet("/health/live", Live).WithName("V2ServerLive").WithSummary("The server answers.")
            .WithDescription("The protocol's server live probe ({\"live\": true}), for a Kubernetes livenessProbe; needs no API key.").Produces<ServerLive>(StatusCodes.Status200OK, "application/json")
            .AllowAnonymous().DisableRateLimiting();
        v2.MapGet("/health/ready", Ready).WithName("V2ServerReady").WithSummary("The model is loaded and ready for inference.")
            .WithDescription("The protocol's server ready probe ({\"ready\": true}), for a Kubernetes readinessProbe; needs no API key.").Produces<ServerReady>(StatusCodes.Status200OK, "application/json")
            .AllowAnonymous().DisableRateLimiting();

        v2.MapGet("/models/{model}", GetModelMetadata).WithName("V2ModelMetadata")
            .WithSummary("The model's versions, input and outputs.")
            .WithDescription("The protocol's model metadata ($metadata_model_response): platform mlnet_zip, input 'features' (FP32 [-1, 37]), outputs 'label' (INT64 [-1, 1]) and 'probability' (FP32 [-1, 1]).")
            .Produces<ModelMetadata>(StatusCodes.Status200OK, "application/json").ProducesError(StatusCodes.Status404NotFound);
        v2.MapGet("/models/{model}/versions/{version}", GetModelVersionMetadata).WithName("V2ModelVersionMetadata")
            .WithSummary("The model's metadata, for one version.")
            .WithDescription("The model metadata for a version listed in 'versions' (the loaded model's); any other version is a 404.")
            .Produces<ModelMetadata>(StatusCodes.Status200OK, "application/json").ProducesError(StatusCodes.Status404NotFound);
        v2.MapGet("/models/{model}/ready", GetModelReady).WithName("V2ModelReady")
            .WithSummary("The model is ready for inference.")
            .WithDescription("The protocol's model ready probe ($ready_model_response): the model's name and whether it can score.")
            .Produces<ModelReady>(StatusCodes.Status200OK, "application/json").ProducesError(StatusCodes.Status404NotFound);
        v2.MapGet("/models/{model}/versions/{version}/ready", GetModelVersionReady).WithName("V2ModelVersionReady")
            .WithSummary("The model version is ready for inference.")
            .WithDescription("The model ready probe for a version listed in the model metadata; any other version is a 404.")
            .Produces<ModelReady>(StatusCodes.Status200OK, "application/json").ProducesError(StatusCodes.Status404NotFound);

        v2.MapPost("/models/{model}/infer", Infer).WithName("V2Infer").WithInferenceDocs()
            .WithSummary("Scores flights given as an FP32 tensor 'features' of shape [n, 37]; JSON or binary tensor data.")
            .WithDescription("The protocol's inference ($inference_request in, $inference_response out): 'features' of shape [n, 37] row-major, " +
                "flat or nested, in FP32, FP64, INT64, INT32 or BOOL; outputs 'label' and 'probability' of shape [n, 1], all or those named in " +
                "'outputs'; the request's 'id' is echoed. Triton's binary tensor data extension (Inference-Header-Content-Length) is supported.");
        v2.MapPost("/models/{model}/versions/{version}/infer", InferVersion).WithName("V2InferVersion").WithInferenceDocs()
            .WithSummary("Scores flights with one model version.")
            .WithDescription("Inference as POST /v2/models/{model}/infer, with a version listed in the model metadata; any other version is a 404.");
        return app;
    }

    private static RouteHandlerBuilder WithInferenceDocs(this RouteHandlerBuilder builder) =>
        builder.DocumentsBody<InferenceRequest>()
            .ProducesError(StatusCodes.Status400BadRequest)
            .ProducesError(StatusCodes.Status404NotFound)
            .ProducesError(StatusCodes.Status413PayloadTooLarge)
            .ProducesError(StatusCodes.Status415UnsupportedMediaType);

    /// <summary>Documents one of the protocol's <c>{"error": "..."}</c> answers.</summary>
    private static RouteHandlerBuilder ProducesError(this RouteHandlerBuilder builder, int status) =>
        builder.Produces<ErrorResponse>(status, "application/json");

    internal static JsonHttpResult<ServerMetadata> GetServerMetadata() =>
        TypedResults.Json(new ServerMetadata("flightdelay", ServerVersion, ["binary_tensor_data"]), OpenInferenceJsonContext.Default.ServerMetadata);

    internal static JsonHttpResult<ServerLive> Live() =>
        TypedResults.Json(new ServerLive(true), OpenInferenceJsonContext.Default.ServerLive);

    // The model is loaded while the host starts (a broken model stops the start), so resolving it means ready;
    // a failed reload leaves the previous model serving, so it stays ready.
    internal static JsonHttpResult<ServerReady> Ready(CurrentModel current) =>
        TypedResults.Json(new ServerReady(true), OpenInferenceJsonContext.Default.ServerReady);

    internal static Task<Results<JsonHttpResult<ModelMetadata>, JsonHttpResult<ErrorResponse>>> GetModelMetadata(string model, CurrentModel current, ModelRegistry registry,
        CancellationToken cancellationToken) =>
        GetModelVersionMetadata(model, null, current, registry, cancellationToken);

    /// <summary>The protocol's model metadata; <c>versions</c> lists every registered version (each may be asked for by path).</summary>
    internal static async Task<Results<JsonHttpResult<ModelMetadata>, JsonHttpResult<ErrorResponse>>> GetModelVersionMetadata(string model, string? version,
        CurrentModel current, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var (_, problem) = await FindAsync(model, version, current, registry, cancellationToken);
        if (problem is not null)
            return problem;
        return TypedResults.Json(new ModelMetadata(ModelName, await registry.VersionsAsync(cancellationToken), Platform, Inputs, Outputs),
            OpenInferenceJsonContext.Default.ModelMetadata);
    }

    internal static Task<Results<JsonHttpResult<ModelReady>, JsonHttpResult<ErrorResponse>>> GetModelReady(string model, CurrentModel current, ModelRegistry registry,
        CancellationToken cancellationToken) =>
        GetModelVersionReady(model, null, current, registry, cancellationToken);

    internal static async Task<Results<JsonHttpResult<ModelReady>, JsonHttpResult<ErrorResponse>>> GetModelVersionReady(string model, string? version,
        CurrentModel current, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var (_, problem) = await FindAsync(model, version, current, registry, cancellationToken);
        if (problem is not null)
            return problem;
        return TypedResults.Json(new ModelReady(ModelName, true), OpenInferenceJsonContext.Default.ModelReady);
    }

    internal static Task<Results<InferenceResult, JsonHttpResult<ErrorResponse>>> Infer(
        string model, HttpRequest request, CurrentModel current, ModelRegistry registry, PredictionMetrics metrics, ShadowSampler shadow, IOptions<PredictionOptions> options) =>
        InferVersion(model, null, request, current, registry, metrics, shadow, options);

    internal static async Task<Results<InferenceResult, JsonHttpResult<ErrorResponse>>> InferVersion(
        string model, string? version, HttpRequest request, CurrentModel current, ModelRegistry registry, PredictionMetrics metrics, ShadowSampler shadow,
        IOptions<PredictionOptions> options)
    {
        // One model for the whole request: the version checked, the one that scores and the one reported are the same.
        var (flightModel, notFound) = await FindAsync(model, version, current, registry, request.HttpContext.RequestAborted);
        if (notFound is not null)
            return notFound;

        var limits = options.Value;
        var (input, error) = await InferenceRequestReader.ReadAsync(request, limits.MaxBodyBytes, limits.MaxFlightsPerRequest);
        if (error is not null)
            return Error(error.Status, error.Message);

        using (input)
        {
            var predictions = new Prediction[input!.Rows];
            if (input.Rows == 1)
                predictions[0] = flightModel!.Predict(input.Features.Span);
            else
                flightModel!.PredictBatch(input.Features, predictions);
            metrics.Record(predictions, input.Features.Span, "v2");
            shadow.Offer(input.Features.Span, predictions, flightModel.Version);

            // The protocol echoes the client's id; without one, a fresh id still lets the answer be matched to logs.
            var id = input.Id ?? Guid.CreateVersion7().ToString();
            return new InferenceResult(ModelName, flightModel.Version, id, input.Outputs, predictions);
        }
    }

    /// <summary>
    /// The model a route names: the champion without a version, else that registered version. 404 (the path names a
    /// resource that is not there) for another model name or an unknown version, listing the registered versions.
    /// </summary>
    private static async ValueTask<(FlightModel? Model, JsonHttpResult<ErrorResponse>? Problem)> FindAsync(string model, string? version, CurrentModel current,
        ModelRegistry registry, CancellationToken cancellationToken)
    {
        if (model != ModelName)
            return (null, Error(StatusCodes.Status404NotFound, $"Unknown model '{model}'; this server serves '{ModelName}'."));
        if (version is null)
            return (current.Model, null);
        if (await ModelChoice.FindAsync(registry, version, cancellationToken) is { } found)
            return (found, null);
        return (null, Error(StatusCodes.Status404NotFound,
            $"Model '{ModelName}' has no version '{version}'; the registered versions are {string.Join(", ", await registry.VersionsAsync(cancellationToken))}."));
    }

    /// <summary>The protocol's error answer: <paramref name="status"/> with <c>application/json</c> <c>{"error": message}</c>.</summary>
    internal static JsonHttpResult<ErrorResponse> Error(int status, string message) =>
        TypedResults.Json(new ErrorResponse(message), OpenInferenceJsonContext.Default.ErrorResponse, "application/json", status);
}
