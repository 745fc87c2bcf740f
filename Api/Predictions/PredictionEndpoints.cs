using System.Buffers;
using System.ComponentModel;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Predictions;

public static class PredictionEndpoints
{
    // The seed answered with Flask's jsonify(str(prediction)): a JSON string and a newline.
    private static readonly byte[] Delayed = "\"1\"\n"u8.ToArray();
    private static readonly byte[] OnTime = "\"0\"\n"u8.ToArray();

    public static IEndpointRouteBuilder MapPredictions(this IEndpointRouteBuilder app)
    {
        app.MapPost("/predict_api", PredictSeed)
            .WithName("PredictSeed")
            .WithTags("Predictions")
            .WithSummary("The seed's endpoint: {\"data\": [37 numbers]} in, the JSON string \"0\" or \"1\" out.")
            .DocumentsBody<SeedBody>()
            .Produces<string>(StatusCodes.Status200OK, "application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        app.MapGroup("/v1/predictions")
            .WithTags("Predictions")
            .MapPost("", Predict)
            .WithName("Predict")
            .WithSummary("Scores one or many flights, given by name or as 37 features.")
            .DocumentsBody<PredictionRequest>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    internal static async Task<Results<FileContentHttpResult, ProblemHttpResult>> PredictSeed(
        HttpRequest request, CurrentModel current, PredictionMetrics metrics, ShadowSampler shadow, IOptions<PredictionOptions> options)
    {
        var (prediction, problem) = await RequestBody.ReadJsonAsync(request, options.Value.MaxSeedBodyBytes, body =>
        {
            Span<float> features = stackalloc float[FlightSchema.FeatureCount];
            if (SeedRequest.TryRead(body, features) is { } error)
                return (default(Prediction?), Problems.BadRequest(error));
            var model = current.Model;
            var scored = model.Predict(features);
            // Recorded here, where the features are: they live on this callback's stack.
            metrics.Record([scored], features, "predict_api");
            shadow.Offer(features, [scored], model.Version);
            return ((Prediction?)scored, null);
        });
        if (problem is not null) return problem;

        var p = prediction!.Value;
        return TypedResults.Bytes(p.Delayed ? Delayed : OnTime, "application/json");
    }

    internal static async Task<Results<JsonOk<PredictionResponse>, ProblemHttpResult>> Predict(
        HttpRequest request,
        [FromQuery(Name = "model"), Description("A registered model version (m- and 12 hex digits, see GET /v1/models) to score with; without it, the champion.")] string? model,
        CurrentModel current, ModelRegistry registry, PredictionMetrics metrics, ShadowSampler shadow, IOptions<PredictionOptions> options)
    {
        var scorer = current.Model;
        if (model is not null)
        {
            if (await ModelChoice.FindAsync(registry, model, request.HttpContext.RequestAborted) is not { } chosen)
                return await ModelChoice.UnknownAsync(registry, model, request.HttpContext.RequestAborted);
            scorer = chosen;
        }

        var limits = options.Value;
        var (body, problem) = await RequestBody.ReadJsonAsync(request, limits.MaxBodyBytes,
            json => ApiJsonContext.Parse(json, ApiJsonContext.Default.PredictionRequest));
        if (problem is not null) return problem;

        var flights = body!.Flights;
        if (flights is null || flights.Count == 0)
            return Problems.BadRequest("'flights' must be a non-empty array of flights.");
        if (flights.Count > limits.MaxFlightsPerRequest)
            return Problems.BadRequest($"At most {limits.MaxFlightsPerRequest} flights per request; received {flights.Count}. Submit a batch job for more.");

        return Score(flights, scorer, metrics, shadow);
    }

    // Synchronous, so a request's predictions can live on the stack; nothing here allocates per flight but the answer.
    private static Results<JsonOk<PredictionResponse>, ProblemHttpResult> Score(List<FlightInput?> flights, FlightModel model, PredictionMetrics metrics, ShadowSampler shadow)
    {
        var features = ArrayPool<float>.Shared.Rent(flights.Count * FlightSchema.FeatureCount);
        var rented = flights.Count > 64 ? ArrayPool<Prediction>.Shared.Rent(flights.Count) : null;
        try
        {
            List<KeyValuePair<string, string>>? errors = null;
            for (var i = 0; i < flights.Count && (errors?.Count ?? 0) < 100; i++)
            {
                var row = features.AsSpan(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount);
                if (flights[i] is not { } flight)
                {
                    (errors ??= []).Add(new($"flights[{i}]", "A flight must be an object, not null."));
                    continue;
                }
                foreach (var error in flight.TryEncode(row))
                    (errors ??= []).Add(new($"flights[{i}].{error.Field}", error.Message));
            }
            if (errors is not null)
                return Problems.Validation($"{errors.Count} problem(s) in the flights; see 'errors'.", errors);

            // One model for the whole request: the version in the answer is the one that scored every flight.
            var scored = features.AsSpan(0, flights.Count * FlightSchema.FeatureCount);
            Span<Prediction> predictions = rented is null ? stackalloc Prediction[flights.Count] : rented.AsSpan(0, flights.Count);
            if (flights.Count == 1)
                predictions[0] = model.Predict(scored);
            else
                model.PredictBatch(features.AsMemory(0, scored.Length), predictions);
            metrics.Record(predictions, scored, "v1");
            shadow.Offer(scored, predictions, model.Version);

            var answers = new FlightPrediction[flights.Count];
            for (var i = 0; i < answers.Length; i++)
                answers[i] = new FlightPrediction(i, predictions[i].Delayed, predictions[i].Delayed ? 1 : 0, predictions[i].Probability);
            return new JsonOk<PredictionResponse>(new PredictionResponse(model.Version, answers), ApiJsonContext.Default.PredictionResponse);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(features);
            if (rented is not null) ArrayPool<Prediction>.Shared.Return(rented);
        }
    }

    /// <summary>For the OpenAPI document only: the seed's request shape.</summary>
    internal sealed record SeedBody(float[] Data);
}
