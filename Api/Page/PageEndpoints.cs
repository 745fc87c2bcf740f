using System.Globalization;
using FlightDelay.Processing.Jobs;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Page;

/// <summary>
/// The page for people: one document with four sections (Predict, Batch, Jobs, Model). The prediction form is
/// rendered on the server so it works without JavaScript (<c>POST /predict</c>); <c>app.js</c> turns the sections
/// into tabs, asks <c>/v1/predictions</c> instead of reloading, and drives batch jobs and the charts through <c>/v1/</c>.
/// </summary>
public static class PageEndpoints
{
    // Everything the page loads comes from this origin: no CDNs, no inline script or style.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static IEndpointRouteBuilder MapPage(this IEndpointRouteBuilder app)
    {
        var page = app.MapGroup("").ExcludeFromDescription().AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            return await next(context);
        });
        page.MapGet("/", Index);
        page.MapPost("/predict", PredictForm).DisableAntiforgery();
        return app;
    }

    internal static ContentHttpResult Index(CurrentModel current, IOptions<JobOptions> jobs) =>
        Html(PageHtml.Render(current.Model, jobs.Value, new FlightForm(null, "I", null), result: null, errors: []), StatusCodes.Status200OK);

    internal static async Task<ContentHttpResult> PredictForm(HttpRequest request, CurrentModel current, PredictionMetrics metrics, IOptions<JobOptions> jobs)
    {
        var model = current.Model;
        var form = request.HasFormContentType ? await request.ReadFormAsync() : FormCollection.Empty;
        var input = new FlightForm(form["airline"], form["flightType"], int.TryParse(form["month"], CultureInfo.InvariantCulture, out var m) ? m : null);
        Span<float> features = stackalloc float[FlightSchema.FeatureCount];
        var errors = FlightSchema.TryEncode(input.Airline, input.FlightType, input.Month, features);
        Prediction? result = null;
        if (errors.Count == 0)
        {
            var prediction = model.Predict(features);
            metrics.Record([prediction], features, "page");
            result = prediction;
        }
        return Html(PageHtml.Render(model, jobs.Value, input, result, errors),
            errors.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    private static ContentHttpResult Html(string html, int statusCode) =>
        TypedResults.Content(html, "text/html; charset=utf-8", statusCode: statusCode);
}

/// <summary>What the prediction form was sent (or starts with).</summary>
internal sealed record FlightForm(string? Airline, string? FlightType, int? Month);
