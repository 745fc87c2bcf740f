using System.ComponentModel;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Security;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FlightDelay.Api.ModelInfo;

/// <summary>One registered model version: its role, where it came from, when, and its card.</summary>
public sealed record ModelVersionView(
    [property: Description("m- and 12 hex digits of the model file's SHA-256.")] string Version,
    [property: Description("champion (scores what names no version), challenger, or null (a candidate).")] string? Role,
    [property: Description("How it entered the registry: folder (Model:Directory), train (Worker train) or upload.")] string Source,
    [property: Description("When it entered the registry.")] DateTimeOffset RegisteredAt,
    [property: Description("When its role last changed; null if it never held one.")] DateTimeOffset? RoleChangedAt,
    [property: Description("Its model card, as GET /v1/model shows the champion's.")] ModelCardResponse Card,
    ModelVersionLinks Links);

/// <summary>Where to read a version and where to promote it.</summary>
public sealed record ModelVersionLinks(string Self, string Promote, string Challenge, string Retire, string Quality, string Comparison);

/// <summary><c>GET /v1/models</c>: every registered version, newest registration first, and who holds each role.</summary>
public sealed record ModelVersionList(
    [property: Description("Every registered version, newest registration first.")] IReadOnlyList<ModelVersionView> Items,
    [property: Description("The champion's version.")] string? Champion,
    [property: Description("The challenger's version; null when none is set.")] string? Challenger);

/// <summary>Live quality figures of the delayed class, from the rows whose outcome was reported; a ratio is null when undefined (no such rows, or one class only).</summary>
public sealed record QualityView(
    [property: Description("Scored flights with a reported outcome.")] long Flights,
    [property: Description("Of them, delayed more than 15 minutes.")] long Delayed,
    [property: Description("[[tn, fp], [fn, tp]], scikit-learn's layout.")] long[][] ConfusionMatrix,
    double? Accuracy,
    [property: Description("Of the flights labelled delayed, the share that were.")] double? Precision,
    [property: Description("Of the delayed flights, the share labelled delayed.")] double? Recall,
    double? F1,
    [property: Description("Area under the ROC curve of the probabilities (ties counted half); null with one class only.")] double? RocAuc)
{
    internal static QualityView Of(QualityFigures f) => new(f.Flights, f.Delayed, f.ConfusionMatrix, f.Accuracy, f.Precision, f.Recall, f.F1, f.RocAuc);
}

/// <summary>One window of live quality: flights scored in [start, end).</summary>
public sealed record QualityWindowView(DateTimeOffset Start, DateTimeOffset End, QualityView Live);

/// <summary>
/// <c>GET /v1/models/{version}/quality</c>: the version's live quality (rows it scored whose outcome was reported, by
/// when their chunk was scored) beside its card's test figures, in total and per window.
/// </summary>
public sealed record ModelQualityView(
    string Version,
    DateTimeOffset From,
    DateTimeOffset To,
    [property: Description("hour, day or week: the windows' width.")] string Bucket,
    [property: Description("The card's figures on the held-out test set.")] Scoring.ModelMetrics Test,
    [property: Description("Over the whole span.")] QualityView Live,
    [property: Description("Windows with reported outcomes, oldest first.")] IReadOnlyList<QualityWindowView> Windows);

/// <summary>
/// <c>GET /v1/models/{version}/comparison</c>: a challenger's shadow scores against the served ones on the same job rows
/// (label agreement, probability differences challenger minus served), and both sides' live quality where outcomes
/// were reported.
/// </summary>
public sealed record ModelComparisonView(
    string Challenger,
    [property: Description("The versions that served the compared rows.")] IReadOnlyList<string> Served,
    DateTimeOffset From,
    DateTimeOffset To,
    [property: Description("Rows scored by both.")] long Rows,
    [property: Description("Rows where both gave the same delayed label.")] long Agreements,
    double? AgreementRate,
    [property: Description("Mean of challenger minus served probability.")] double? MeanDifference,
    double? MeanAbsoluteDifference,
    double? MedianAbsoluteDifference,
    double? P95AbsoluteDifference,
    [property: Description("Counts of the difference in 20 bins of 0.1 from -1 to 1 (the first holds [-1, -0.9), the last [0.9, 1]).")] IReadOnlyList<long> Histogram,
    [property: Description("The served versions' quality on the compared rows with a reported outcome.")] QualityView ServedQuality,
    [property: Description("The challenger's quality on the same rows.")] QualityView ChallengerQuality);
/// <summary>One input field's drift: its population stability index against the training data and each value's shares.</summary>
public sealed record FieldDriftView(
    [property: Description("airline, flight_type or month.")] string Field,
    [property: Description("Flights counted for the field (those with one of its values set).")] long Flights,
    [property: Description("Population stability index, sum of (actual - training) * ln(actual / training) over the values, both shares floored at 0.0001; null without flights.")] double? Psi,
    [property: Description("stable (under 0.1), moderate (0.1 to 0.25) or significant (over 0.25); null without flights.")] string? Level,
    [property: Description("Every value of the field in feature order: its flights, actual share and training share.")] IReadOnlyList<ValueShare> Values);

/// <summary>
/// <c>GET /v1/models/{version}/drift</c>: how the inputs of the job rows a version scored in the last hours compare
/// with its training data, per field.
/// </summary>
public sealed record ModelDriftView(
    string Version,
    DateTimeOffset From,
    DateTimeOffset To,
    [property: Description("Job rows read: scored by this version in chunks finished in [from, to), newest first.")] long Flights,
    [property: Description("True when the window held more than maxFlights rows: the figures are those of its newest maxFlights.")] bool Truncated,
    [property: Description("The most rows read for one answer.")] int MaxFlights,
    [property: Description("airline, flight_type and month (flight_type only when the card has training counts by flight type).")] IReadOnlyList<FieldDriftView> Fields);

/// <summary>The model registry: <c>GET /v1/models</c>, <c>GET /v1/models/{version}</c> and <c>POST /v1/models/{version}/promote</c> (admin key).</summary>
public static class ModelRegistryEndpoints
{
    /// <summary>Maps the registry's routes under <c>/v1/models</c>.</summary>
    public static IEndpointRouteBuilder MapModelRegistry(this IEndpointRouteBuilder app)
    {
        var models = app.MapGroup("/v1/models").WithTags("Model");
        models.MapGet("", List).WithName("ListModels")
            .WithSummary("Every registered model version with its card and role (champion, challenger, or none).");
        models.MapGet("/{version}", Get).WithName("GetModelVersion")
            .WithSummary("One registered model version with its card and role.");
        models.MapGet("/{version}/quality", Quality).WithName("GetModelQuality")
            .WithSummary("Live quality of a version from reported outcomes (POST /v1/jobs/{id}/outcomes) beside its test figures: confusion matrix, precision, recall, ROC AUC, in total and per hour, day or week.");
        models.MapGet("/{version}/comparison", Comparison).WithName("GetModelComparison")
            .WithSummary("A challenger's shadow scores against the served ones on the same job rows: agreement, probability differences, and both versions' quality where outcomes exist.");
        models.MapPost("/{version}/challenge", Challenge).WithName("ChallengeModel")
            .WithSummary("Makes a version the challenger: job chunks are also scored by it in the shadow, stored beside, never returned. Admin key only.")
            .RequireAdminKey();
        models.MapPost("/{version}/retire", Retire).WithName("RetireModel")
            .WithSummary("Takes the challenger role from a version (the champion cannot be retired: promote another). Admin key only.")
            .RequireAdminKey();
        models.MapGet("/{version}/drift", Drift).WithName("GetModelDrift")
            .WithSummary("Input drift of a version: the population stability index of airline, flight type and month of the job rows it scored in the last hours against its training data, with each value's shares.");
        models.MapPost("/{version}/promote", Promote).WithName("PromoteModel")
            .WithSummary("Makes a version the champion: every job and request that names no version is scored by it, in every process within seconds. Admin key only.")
            .RequireAdminKey();
        return app;
    }

    internal static async Task<Ok<ModelVersionList>> List(ModelRegistry registry, CancellationToken cancellationToken)
    {
        var entries = await registry.ListAsync(cancellationToken);
        return TypedResults.Ok(new ModelVersionList([.. entries.Select(View)],
            entries.FirstOrDefault(e => e.Role == Persistence.Models.ModelRoles.Champion)?.Version,
            entries.FirstOrDefault(e => e.Role == Persistence.Models.ModelRoles.Challenger)?.Version));
    }

    internal static async Task<Results<Ok<ModelVersionView>, ProblemHttpResult>> Get(string version, ModelRegistry registry, CancellationToken cancellationToken) =>
        await registry.GetAsync(version, cancellationToken) is { } entry
            ? TypedResults.Ok(View(entry))
            : UnknownVersion(version);

    internal static async Task<Results<Ok<ModelQualityView>, ProblemHttpResult>> Quality(
        string version,
        [FromQuery(Name = "from"), Description("Start of the span (ISO 8601); default 30 days before 'to'.")] DateTimeOffset? from,
        [FromQuery(Name = "to"), Description("End of the span, excluded (ISO 8601); default now.")] DateTimeOffset? to,
        [FromQuery(Name = "bucket"), Description("hour, day (default) or week.")] string? bucket,
        ModelRegistry registry, GroundTruth groundTruth, TimeProvider clock, CancellationToken cancellationToken)
    {
        TimeSpan? width = (bucket ?? "day").ToLowerInvariant() switch
        {
            "hour" => TimeSpan.FromHours(1),
            "day" => TimeSpan.FromDays(1),
            "week" => TimeSpan.FromDays(7),
            _ => null,
        };
        if (width is null) return Problems.BadRequest($"bucket must be 'hour', 'day' (the default) or 'week', not '{bucket}'.");
        var (since, until, badSpan) = Span(from, to, clock);
        if (badSpan is not null) return badSpan;
        if (await registry.GetAsync(version, cancellationToken) is not { } entry)
            return UnknownVersion(version);

        var live = await groundTruth.MeasureAsync(version, since.UtcDateTime, until.UtcDateTime, width.Value, cancellationToken);
        return TypedResults.Ok(new ModelQualityView(version, since, until, (bucket ?? "day").ToLowerInvariant(), entry.Card.Metrics, QualityView.Of(live.Total),
            [.. live.Windows.Select(w => new QualityWindowView(new DateTimeOffset(w.Start), new DateTimeOffset(w.End), QualityView.Of(w.Figures)))]));
    }

    internal static async Task<Results<Ok<ModelComparisonView>, ProblemHttpResult>> Comparison(
        string version,
        [FromQuery(Name = "from"), Description("Start of the span (ISO 8601); default 30 days before 'to'.")] DateTimeOffset? from,
        [FromQuery(Name = "to"), Description("End of the span, excluded (ISO 8601); default now.")] DateTimeOffset? to,
        ModelRegistry registry, GroundTruth groundTruth, TimeProvider clock, CancellationToken cancellationToken)
    {
        var (since, until, badSpan) = Span(from, to, clock);
        if (badSpan is not null) return badSpan;
        if (await registry.GetAsync(version, cancellationToken) is null)
            return UnknownVersion(version);
        var c = await groundTruth.CompareAsync(version, since.UtcDateTime, until.UtcDateTime, cancellationToken);
        return TypedResults.Ok(new ModelComparisonView(c.Challenger, c.Served, since, until, c.Rows, c.Agreements, c.AgreementRate, c.MeanDifference,
            c.MeanAbsoluteDifference, c.MedianAbsoluteDifference, c.P95AbsoluteDifference, c.Histogram, QualityView.Of(c.ServedQuality), QualityView.Of(c.ChallengerQuality)));
    }

    internal static Task<Results<Ok<ModelVersionView>, ProblemHttpResult>> Challenge(string version, ModelRegistry registry, CancellationToken cancellationToken) =>
        RoleChangedAsync(version, registry.SetChallengerAsync(version, cancellationToken));

    internal static Task<Results<Ok<ModelVersionView>, ProblemHttpResult>> Retire(string version, ModelRegistry registry, CancellationToken cancellationToken) =>
        RoleChangedAsync(version, registry.RetireAsync(version, cancellationToken));

    private static async Task<Results<Ok<ModelVersionView>, ProblemHttpResult>> RoleChangedAsync(string version, Task<RoleChange> change) =>
        (await change) switch
        {
            { Result: RoleChangeResult.NotFound } => UnknownVersion(version),
            { Result: RoleChangeResult.IsChampion } => Problems.Conflict($"{version} is the champion; promote another version first."),
            { Model: { } model } => TypedResults.Ok(View(model)),
            _ => throw new InvalidOperationException("A role change without its model."),
        };

    internal static async Task<Results<Ok<ModelDriftView>, ProblemHttpResult>> Drift(
        string version,
        [FromQuery(Name = "hours"), Description("The window: chunks finished in the last this many hours, 1 to 720; default 24.")] int? hours,
        ModelRegistry registry, InputDrift inputs, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (hours is < 1 or > 720) return Problems.BadRequest($"hours must be from 1 to 720 (30 days), not {hours}.");
        if (await registry.GetAsync(version, cancellationToken) is not { } entry)
            return UnknownVersion(version);
        if (entry.Card.Training is not { } training)
            return TypedResults.Problem($"{version}'s card has no training statistics (it predates them): there is nothing to compare its inputs with.",
                statusCode: StatusCodes.Status409Conflict, title: "No training statistics.");

        var until = clock.GetUtcNow();
        var since = until.AddHours(-(hours ?? 24));
        var sample = await inputs.CountAsync(version, since.UtcDateTime, until.UtcDateTime, InputDrift.MaxFlights, cancellationToken);
        return TypedResults.Ok(new ModelDriftView(version, since, until, sample.Flights, sample.Truncated, InputDrift.MaxFlights,
            [.. Scoring.Drift.Compare(sample.Counts, training).Select(f => new FieldDriftView(f.Field, f.Flights, f.Psi, f.Psi is { } psi ? Scoring.Drift.Level(psi) : null, f.Values))]));
    }

    internal static async Task<Results<Ok<ModelVersionView>, ProblemHttpResult>> Promote(
        string version,
        [FromQuery(Name = "force"), Description("true: promote even when its test ROC AUC is more than Model:PromotionTolerance below the champion's.")] bool? force,
        ModelRegistry registry,
        CancellationToken cancellationToken)
    {
        var outcome = await registry.PromoteAsync(version, force ?? false, cancellationToken);
        return outcome.Result switch
        {
            PromoteResult.NotFound => UnknownVersion(version),
            PromoteResult.BelowChampion => TypedResults.Problem(
                $"{version}'s test ROC AUC {outcome.Model!.Card.Metrics.RocAuc:0.####} is more than {outcome.Tolerance} below the champion {outcome.Champion}'s " +
                $"{outcome.ChampionRocAuc:0.####}; promote with ?force=true to override.",
                statusCode: StatusCodes.Status409Conflict, title: "Below the champion.",
                extensions: new Dictionary<string, object?>
                {
                    ["version"] = version,
                    ["rocAuc"] = outcome.Model.Card.Metrics.RocAuc,
                    ["champion"] = outcome.Champion,
                    ["championRocAuc"] = outcome.ChampionRocAuc,
                    ["tolerance"] = outcome.Tolerance,
                }),
            _ => TypedResults.Ok(View(outcome.Model!)),
        };
    }

    /// <summary>The span a <c>from</c>/<c>to</c> query names: by default the 30 days before now; a 400 when it is empty.</summary>
    private static (DateTimeOffset Since, DateTimeOffset Until, ProblemHttpResult? Problem) Span(DateTimeOffset? from, DateTimeOffset? to, TimeProvider clock)
    {
        var until = to ?? clock.GetUtcNow();
        var since = from ?? until.AddDays(-30);
        return (since, until, since >= until ? Problems.BadRequest("'from' must be before 'to'.") : null);
    }

    /// <summary>404: <paramref name="version"/> is not in the registry.</summary>
    private static ProblemHttpResult UnknownVersion(string version) =>
        Problems.NotFound($"'{version}' is not a registered model version (GET /v1/models lists them).");

    private static ModelVersionView View(ModelEntry entry) =>
        new(entry.Version, entry.Role, entry.Source, new DateTimeOffset(entry.RegisteredAt, TimeSpan.Zero),
            entry.RoleChangedAt is { } changed ? new DateTimeOffset(changed, TimeSpan.Zero) : null,
            ModelEndpoints.Describe(entry.Card),
            new ModelVersionLinks($"/v1/models/{entry.Version}", $"/v1/models/{entry.Version}/promote", $"/v1/models/{entry.Version}/challenge",
                $"/v1/models/{entry.Version}/retire", $"/v1/models/{entry.Version}/quality", $"/v1/models/{entry.Version}/comparison"));
}
