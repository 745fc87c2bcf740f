using System.ComponentModel;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.ModelInfo;

/// <summary>The model card plus what a client needs to build valid flights and to read a prediction against the data.</summary>
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
    IReadOnlyList<int> Months,
    [property: Description("What `probability` and `delayed` mean and how well they hold on the test set; null for a model trained before calibration.")]
    ModelCalibrationView? Calibration,
    [property: Description("Delay rates in the training data (the historical base rates): overall, per airline, per month and per airline and flight type, with flight counts; null for old cards.")]
    TrainingStatistics? Training);

/// <summary>
/// The model's calibration as a reader of one prediction needs it: what the probability is worth (reliability bands,
/// Brier score, calibration error) and what the <c>delayed</c> label is worth (its threshold and hit rate).
/// </summary>
public sealed record ModelCalibrationView(
    [property: Description("The calibrator fitted on held-out training scores: Platt or Isotonic.")] string Method,
    [property: Description("The calibrated probability from which `delayed` is true (the seed's decision, kept).")] double DecisionThreshold,
    [property: Description("Precision of the `delayed` label on the test set: of the flights labelled delayed, the share that were.")] double HitRate,
    [property: Description("Recall of the `delayed` label on the test set: of the flights that were delayed, the share labelled so.")] double CatchRate,
    [property: Description("Brier score of the calibrated probability on the test set (mean squared error; lower is better).")] double Brier,
    [property: Description("Expected calibration error on the test set over ten bands: the flight-weighted gap between predicted and observed.")] double ExpectedCalibrationError,
    [property: Description("Mean calibrated probability over the test set.")] double MeanProbability,
    [property: Description("Share of test flights that were delayed.")] double ObservedRate,
    [property: Description("Ten bands of 0.1 of calibrated probability: test flights in the band, their mean probability and the share delayed.")]
    IReadOnlyList<ReliabilityBand> Reliability);

/// <summary><c>GET /v1/model</c>: the card of the model being served.</summary>
public static class ModelEndpoints
{
    /// <summary>Maps <c>GET /v1/model</c>.</summary>
    public static IEndpointRouteBuilder MapModel(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/model", GetModel)
            .WithName("GetModel")
            .WithTags("Model")
            .WithSummary("The model card: version, algorithm, test metrics, calibration, training base rates, features and accepted values.");
        return app;
    }

    internal static Ok<ModelCardResponse> GetModel(CurrentModel current) => TypedResults.Ok(Describe(current.Model.Card));

    /// <summary>The card as the API and the page show it (the page embeds the same JSON).</summary>
    internal static ModelCardResponse Describe(ModelCard card) =>
        new(card.Version, card.Algorithm, card.TrainedAt, card.TrainRows, card.TestRows,
            card.Metrics, FlightSchema.FeatureNames, FlightSchema.Airlines, FlightSchema.FlightTypes, [.. Enumerable.Range(1, 12)],
            card.Calibration is { } c
                ? new ModelCalibrationView(c.Method, c.DecisionThreshold, card.Metrics.Precision, card.Metrics.Recall, c.Brier, c.ExpectedCalibrationError,
                    c.MeanProbability, c.ObservedRate, c.Reliability)
                : null,
            card.Training);
}
