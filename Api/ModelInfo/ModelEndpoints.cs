using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.ModelInfo;

/// <summary>The model card plus what a client needs to build valid flights.</summary>
public sealed record ModelCardResponse(
    string Version,
    string Algorithm,
    DateTimeOffset TrainedAt,
    int TrainRows,
    int TestRows,
    ModelMetrics Metrics,
    IReadOnlyList<string> FeatureNames,
    IReadOnlyList<string> Airlines,
    IReadOnlyList<string> FlightTypes,
    IReadOnlyList<int> Months);

public static class ModelEndpoints
{
    public static IEndpointRouteBuilder MapModel(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/model", GetModel)
            .WithName("GetModel")
            .WithTags("Model")
            .WithSummary("The model card: version, algorithm, test metrics, features and accepted values.");
        return app;
    }

    internal static Ok<ModelCardResponse> GetModel(CurrentModel current)
    {
        var card = current.Model.Card;
        return TypedResults.Ok(new ModelCardResponse(card.Version, card.Algorithm, card.TrainedAt, card.TrainRows, card.TestRows,
            card.Metrics, FlightSchema.FeatureNames, FlightSchema.Airlines, FlightSchema.FlightTypes, [.. Enumerable.Range(1, 12)]));
    }
}
