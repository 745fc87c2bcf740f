using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using FlightDelay.Scoring;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.Page;

/// <summary>
/// The page for people: pick airline, flight type and month, see the prediction. Rendered on the server so
/// the form works without JavaScript (<c>POST /predict</c>); <c>app.js</c> upgrades it to call <c>/v1/predictions</c>.
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

    internal static ContentHttpResult Index(FlightModel model) =>
        TypedResults.Content(Render(model, new FlightForm(null, "I", null), result: null, errors: []), "text/html; charset=utf-8");

    internal static async Task<ContentHttpResult> PredictForm(HttpRequest request, FlightModel model, PredictionMetrics metrics)
    {
        var form = request.HasFormContentType ? await request.ReadFormAsync() : FormCollection.Empty;
        var input = new FlightForm(form["airline"], form["flightType"], int.TryParse(form["month"], CultureInfo.InvariantCulture, out var m) ? m : null);
        Span<float> features = stackalloc float[FlightSchema.FeatureCount];
        var errors = FlightSchema.TryEncode(input.Airline, input.FlightType, input.Month, features);
        Prediction? result = null;
        if (errors.Count == 0)
        {
            var prediction = model.Predict(features);
            metrics.Record([prediction], "page");
            result = prediction;
        }
        return TypedResults.Content(Render(model, input, result, errors), "text/html; charset=utf-8",
            statusCode: errors.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest);
    }

    private sealed record FlightForm(string? Airline, string? FlightType, int? Month);

    private static string Render(FlightModel model, FlightForm form, Prediction? result, IReadOnlyList<FieldError> errors)
    {
        var html = HtmlEncoder.Default;
        var airlines = new StringBuilder();
        foreach (var airline in FlightSchema.Airlines)
            airlines.Append(CultureInfo.InvariantCulture, $"<option{(airline == form.Airline ? " selected" : "")}>{html.Encode(airline)}</option>");
        var months = new StringBuilder();
        for (var month = 1; month <= 12; month++)
        {
            var name = CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month);
            months.Append(CultureInfo.InvariantCulture, $"<option value=\"{month}\"{(month == form.Month ? " selected" : "")}>{name}</option>");
        }
        string Checked(string type) => string.Equals(form.FlightType, type, StringComparison.OrdinalIgnoreCase) ? " checked" : "";

        var answer = result is { } p
            ? $"""
               <p class="verdict {(p.Delayed ? "delayed" : "on-time")}">{(p.Delayed ? "Likely delayed" : "Likely on time")}</p>
               <p>Probability of a delay over 15 minutes: <strong>{(p.Probability * 100).ToString("F1", CultureInfo.InvariantCulture)}%</strong></p>
               <meter min="0" max="1" value="{p.Probability.ToString(CultureInfo.InvariantCulture)}" aria-label="Delay probability"></meter>
               """
            : "";
        var problems = errors.Count == 0 ? "" :
            "<ul class=\"errors\" role=\"alert\">" + string.Concat(errors.Select(e => $"<li>{html.Encode(e.Message)}</li>")) + "</ul>";
        var m = model.Card.Metrics;

        return $"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>FlightDelay: will my flight from Santiago be delayed?</title>
              <link rel="stylesheet" href="/app.css">
              <script src="/app.js" defer></script>
            </head>
            <body>
            <main>
              <h1>Will my flight from Santiago be delayed?</h1>
              <p class="lead">A prediction of a delay over 15 minutes for flights departing SCL, from the airline, the kind of flight and the month.</p>
              <form id="predict-form" method="post" action="/predict">
                <label for="airline">Airline</label>
                <select id="airline" name="airline" required>{airlines}</select>
                <fieldset>
                  <legend>Flight type</legend>
                  <label><input type="radio" name="flightType" value="I"{Checked("I")}> International</label>
                  <label><input type="radio" name="flightType" value="N"{Checked("N")}> National</label>
                </fieldset>
                <label for="month">Month</label>
                <select id="month" name="month" required>{months}</select>
                <button type="submit">Predict</button>
              </form>
              <section id="result" aria-live="polite">{problems}{answer}</section>
              <footer>
                <p>Model <code>{model.Version}</code> ({html.Encode(model.Card.Algorithm)}), test set: ROC AUC {m.RocAuc}, recall {m.Recall}, precision {m.Precision}.
                <a href="/v1/model">Model card</a> · <a href="/docs">API docs</a> · <a href="/openapi/v1.json">OpenAPI</a></p>
              </footer>
            </main>
            </body>
            </html>
            """;
    }
}
