using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using FlightDelay.Api.Infrastructure;
using FlightDelay.Processing.Jobs;
using FlightDelay.Scoring;

namespace FlightDelay.Api.Page;

/// <summary>
/// The page's markup. Everything a person needs without JavaScript is here (the prediction form and its answer, the
/// model's figures as tables); <c>app.js</c> adds tabs, uploads, live jobs and the charts. No inline script or style:
/// the model card travels as a JSON data block, which the CSP does not execute.
/// </summary>
internal static class PageHtml
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Render(FlightModel model, JobOptions jobs, FlightForm form, Prediction? result, IReadOnlyList<FieldError> errors)
    {
        var card = model.Card;
        return $"""
            <!doctype html>
            <html lang="en">
            <head>
              <meta charset="utf-8">
              <meta name="viewport" content="width=device-width, initial-scale=1">
              <title>Predict a delay · FlightDelay</title>
              <link rel="stylesheet" href="/app.css">
              <link rel="icon" href="/favicon.svg" type="image/svg+xml">
              <script src="/app.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to content</a>
            <header class="top">
              <div class="top-inner">
                <p class="brand"><svg class="logo" viewBox="0 0 24 24" aria-hidden="true"><path d="M21 16v-2l-8-5V3.5a1.5 1.5 0 0 0-3 0V9l-8 5v2l8-2.5V19l-2 1.5V22l3.5-1 3.5 1v-1.5L13 19v-5.5z"/></svg>FlightDelay <span>departures from Santiago (SCL)</span></p>
                <nav aria-label="Sections">
                  <ul class="tabs">
                    <li><a href="#predict" data-tab="predict">Predict</a></li>
                    <li><a href="#batch" data-tab="batch">Batch</a></li>
                    <li><a href="#jobs" data-tab="jobs">Jobs</a></li>
                    <li><a href="#model" data-tab="model">Model</a></li>
                  </ul>
                </nav>
                <p id="key-state" class="key-state" hidden>API key in use <button type="button" id="key-forget" class="link">Forget it</button></p>
              </div>
            </header>
            <main id="main" data-max-upload-bytes="{jobs.MaxUploadBytes.ToString(Invariant)}" data-few-flights="{FewTrainingFlights.ToString(Invariant)}">
            {PredictSection(model, form, result, errors)}
            {BatchSection(jobs)}
            {JobsSection()}
            {ModelSection(card)}
            </main>
            <footer class="bottom">
              <p id="footer-model">Model <code>{Encoder.Encode(model.Version)}</code> ({Encoder.Encode(card.Algorithm)}).
              <a href="/docs">API docs</a> · <a href="/openapi/v1.json">OpenAPI</a> · <a href="/v1/model">Model card (JSON)</a> · <a href="/health/ready">Health</a></p>
            </footer>
            {KeyDialog()}
            {CancelDialog()}
            <script type="application/json" id="model-card">{JsonSerializer.Serialize(ModelInfo.ModelEndpoints.Describe(card), ApiJsonContext.Default.ModelCardResponse)}</script>
            </body>
            </html>
            """;
    }

    private static string PredictSection(FlightModel model, FlightForm form, Prediction? result, IReadOnlyList<FieldError> errors)
    {
        var airlines = new StringBuilder();
        foreach (var airline in FlightSchema.Airlines)
            airlines.Append(Invariant, $"<option{(airline == form.Airline ? " selected" : "")}>{Encoder.Encode(airline)}</option>");
        var months = new StringBuilder();
        for (var month = 1; month <= 12; month++)
            months.Append(Invariant, $"<option value=\"{month}\"{(month == form.Month ? " selected" : "")}>{MonthName(month)}</option>");
        string Checked(string type) => string.Equals(form.FlightType, type, StringComparison.OrdinalIgnoreCase) ? " checked" : "";

        var answer = result is { } p ? Answer(model, form, p) : errors.Count > 0 ? "" :
            """<p class="placeholder">Pick an airline, the kind of flight and the month, then press <strong>Predict</strong>.</p>""";
        var problems = errors.Count == 0 ? "" :
            "<ul class=\"errors\" role=\"alert\">" + string.Concat(errors.Select(e => $"<li>{Encoder.Encode(e.Message)}</li>")) + "</ul>";

        return $"""
            <section id="predict" class="panel" aria-labelledby="predict-title">
              <h1 id="predict-title" tabindex="-1">Will my flight from Santiago be delayed?</h1>
              <p class="lead">The chance that a flight departing SCL leaves more than 15 minutes late, from its airline, the kind of flight and the month.</p>
              <div class="split">
                <form id="predict-form" class="card" method="post" action="/predict">
                  <label for="airline">Airline</label>
                  <select id="airline" name="airline" required>{airlines}</select>
                  <fieldset>
                    <legend>Flight type</legend>
                    <label class="choice"><input type="radio" name="flightType" value="I"{Checked("I")}> International</label>
                    <label class="choice"><input type="radio" name="flightType" value="N"{Checked("N")}> National</label>
                  </fieldset>
                  <label for="month">Month</label>
                  <select id="month" name="month" required>{months}</select>
                  <button type="submit">Predict</button>
                </form>
                <section id="result" class="card result" aria-live="polite" aria-label="Prediction">{problems}{answer}</section>
              </div>
            </section>
            """;
    }

    /// <summary>Below this many training flights of an airline and type, the answer cautions that the estimate is rough.</summary>
    public const int FewTrainingFlights = 100;

    /// <summary>
    /// The answer to one flight; <c>app.js</c> renders the same markup from <c>/v1/predictions</c> (and adds the
    /// twelve-month strip). Every figure comes from the prediction or the model card: the calibrated chance, how it
    /// compares with the average flight, the airline's and the month's delay rates in the training data, what the
    /// flag is worth (its threshold and hit rate on the test set) and a caution when the training data hardly had the
    /// airline and type.
    /// </summary>
    private static string Answer(FlightModel model, FlightForm form, Prediction p)
    {
        var card = ModelInfo.ModelEndpoints.Describe(model.Card);
        var percent = Percent(p.Probability);
        var width = Math.Round(p.Probability * 100, 1).ToString(Invariant);
        var kind = p.Delayed ? "delayed" : "on-time";
        // Names match case-insensitively: show the schema's spelling.
        var airlineName = FlightSchema.Airlines.FirstOrDefault(a => string.Equals(a, form.Airline?.Trim(), StringComparison.OrdinalIgnoreCase)) ?? form.Airline ?? "";
        var typeCode = string.Equals(form.FlightType?.Trim(), "I", StringComparison.OrdinalIgnoreCase) ? "I" : "N";
        var type = typeCode == "I" ? "International" : "National";
        var monthName = MonthName(form.Month ?? 1);
        var training = card.Training;
        var calibration = card.Calibration;

        var average = "";
        var rates = "";
        var caution = "";
        var averageMark = "";
        if (training is not null)
        {
            var ratio = training.DelayRate > 0 ? p.Probability / training.DelayRate : 0;
            average = $"""<p class="relative"><strong>{Fixed(ratio, 1)}×</strong> the average flight ({Percent(training.DelayRate)} of all {training.Flights.ToString("N0", Invariant)} training flights were delayed)</p>""";
            averageMark = $"""<line class="average-mark" x1="{Math.Round(training.DelayRate * 100, 1).ToString(Invariant)}" x2="{Math.Round(training.DelayRate * 100, 1).ToString(Invariant)}" y1="0" y2="6"/>""";
            var airline = training.ByAirline.FirstOrDefault(a => a.Airline == airlineName);
            var byMonth = training.ByMonth.FirstOrDefault(m => m.Month == form.Month);
            var combo = training.ByAirlineType?.FirstOrDefault(c => c.Airline == airlineName && c.FlightType == typeCode);
            var items = new StringBuilder();
            if (airline is not null)
                items.Append(Invariant, $"<li>{Encoder.Encode(airlineName)}, all flights: <strong>{Percent(airline.DelayRate)}</strong> of {airline.Flights.ToString("N0", Invariant)} delayed</li>");
            if (byMonth is not null)
                items.Append(Invariant, $"<li>All {monthName} flights: <strong>{Percent(byMonth.DelayRate)}</strong> of {byMonth.Flights.ToString("N0", Invariant)} delayed</li>");
            if (combo is { Flights: > 0 })
                items.Append(Invariant, $"<li>{Encoder.Encode(airlineName)}, {type.ToLowerInvariant()}: <strong>{Percent(combo.DelayRate)}</strong> of {combo.Flights.ToString("N0", Invariant)} delayed</li>");
            rates = $"""<p class="rates-title">What happened in the training data (2017):</p><ul class="rates">{items}</ul>""";
            if (combo is { Flights: 0 })
                caution = $"""<p class="caution" role="note"><strong>No training flights:</strong> the training data has no {type.ToLowerInvariant()} flights of {Encoder.Encode(airlineName)}. This chance is pieced together from the airline's other flights and the month; treat it with care.</p>""";
            else if (combo is { Flights: < FewTrainingFlights })
                caution = $"""<p class="caution" role="note"><strong>Few training flights:</strong> only {combo.Flights.ToString("N0", Invariant)} {type.ToLowerInvariant()} flights of {Encoder.Encode(airlineName)} in the training data, so this chance is a rough estimate.</p>""";
        }

        var threshold = calibration?.DecisionThreshold ?? 0.5;
        var cut = Math.Round(threshold * 100, 1).ToString(Invariant);
        var verdictWhy = "";
        if (calibration is not null)
        {
            var cm = card.Metrics.ConfusionMatrix;
            var missed = cm[1][0] + cm[0][0] == 0 ? 0 : cm[1][0] / (double)(cm[1][0] + cm[0][0]);
            verdictWhy = p.Delayed
                ? $"""<p class="verdict-why">The model flags flights from a {Percent(threshold)} chance on, to catch most delays ({Percent(calibration.CatchRate)} of them in testing). Its hit rate: <strong>{Percent(calibration.HitRate)}</strong> of the flights it flagged in testing were delayed. Read the flag as "worth watching", not "will be delayed".</p>"""
                : $"""<p class="verdict-why">The model flags flights from a {Percent(threshold)} chance on. Of the flights it did not flag in testing, <strong>{Percent(missed)}</strong> were delayed all the same.</p>""";
        }

        return $"""
            <div class="answer">
              <p class="chance"><strong class="chance-value">{percent}</strong> chance of a delay over 15 minutes</p>
              <p class="flight">{Encoder.Encode(airlineName)} · {type} · {monthName}</p>
              <svg class="prob-bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="Chance of a delay {percent}; the model flags a flight from {Percent(threshold)}."><rect class="track" width="100" height="6"/><rect class="fill {kind}" width="{width}" height="6"/>{averageMark}<line class="cut" x1="{cut}" x2="{cut}" y1="0" y2="6"/></svg>
              <p class="scale" aria-hidden="true"><span>0%</span><span>dotted: the average flight · solid: flagged from {Percent(threshold)}</span><span>100%</span></p>
              {average}
              <p class="verdict {kind}">{(p.Delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk")}</p>
              {verdictWhy}
              {caution}
              {rates}
              <p class="model-version">Model <code>{Encoder.Encode(model.Version)}</code></p>
            </div>
            """;
    }

    private static string BatchSection(JobOptions jobs) => $$"""
        <section id="batch" class="panel" aria-labelledby="batch-title">
          <h1 id="batch-title" tabindex="-1">Score a whole file of flights</h1>
          <p class="lead">Upload a file with one flight per row. It is scored in the background: follow its progress here, then download one prediction per row.</p>
          <noscript><p class="notice">Uploading from this page needs JavaScript. Without it, send the file to <code>POST /v1/jobs</code> (see the <a href="/docs">API docs</a>).</p></noscript>
          <div class="split">
            <form id="upload-form" class="card needs-js" aria-labelledby="upload-title">
              <h3 id="upload-title">Upload</h3>
              <div id="dropzone" class="dropzone">
                <svg class="drop-icon" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3l5 5h-3v6h-4V8H7zM5 17h14v3H5z"/></svg>
                <p class="drop-title">Drag and drop a CSV file here</p>
                <p>or</p>
                <label for="upload-file" class="button">Choose a file…</label>
                <input type="file" id="upload-file" name="file" class="visually-hidden" accept=".csv,.json,.txt,text/csv,application/json">
                <p class="hint">Up to {{jobs.MaxRows.ToString("N0", Invariant)}} rows ({{Megabytes(jobs.MaxUploadBytes)}}). Nothing is stored if a row is wrong. Excel or LibreOffice workbooks: save as CSV first.</p>
              </div>
              <p id="upload-status" class="status" role="status"></p>
              <div id="upload-errors"></div>
              <div id="current-job"></div>
            </form>
            <aside class="card formats" aria-labelledby="formats-title">
              <h3 id="formats-title">What to upload</h3>
              <ul>
                <li><strong>CSV by name</strong>: a header line <code>airline,flightType,month</code> (any order), then one flight per line, for example <code>Grupo LATAM,I,7</code>.
                  <code>flightType</code> is <code>I</code> (international) or <code>N</code> (national), <code>month</code> is 1 to 12.
                  Spreadsheet exports work as they are: commas, semicolons or tabs; headers such as <code>Airline</code>, <code>Flight Type</code>, <code>Month</code>;
                  names such as <code>LATAM</code>, <code>International</code>, <code>Jul</code>. Other columns (an id, a note) come back with the results.</li>
                <li><strong>CSV of features</strong>: 37 numbers per line (the one-hot columns of the model card), with or without a header.</li>
                <li><strong>JSON</strong>: <code>{"flights": [{"airline": "Iberia", "flightType": "I", "month": 3}]}</code>, as for <code>/v1/predictions</code>.</li>
              </ul>
              <p><a href="/example-flights.csv" download class="button secondary">Download an example file</a></p>
              <details>
                <summary>Airline names</summary>
                <p class="airlines">{{Encoder.Encode(string.Join(" · ", FlightSchema.Airlines))}}</p>
              </details>
            </aside>
          </div>
        </section>
        """;

    private static string JobsSection() => """
        <section id="jobs" class="panel" aria-labelledby="jobs-title">
          <div class="panel-head">
            <h1 id="jobs-title" tabindex="-1">Recent jobs</h1>
            <button type="button" id="jobs-refresh" class="secondary needs-js">Refresh</button>
          </div>
          <noscript><p class="notice">The job list needs JavaScript; the API lists jobs at <a href="/v1/jobs">/v1/jobs</a>.</p></noscript>
          <div id="jobs-list" class="needs-js">
            <form id="jobs-filter" class="filter" role="search">
              <div>
                <label for="jobs-search">Search by name</label>
                <input type="search" id="jobs-search" name="q" autocomplete="off" spellcheck="false" placeholder="e.g. march">
              </div>
              <div>
                <label for="jobs-status">Status</label>
                <select id="jobs-status" name="status">
                  <option value="">Any status</option>
                  <option value="queued">Queued</option>
                  <option value="running">Running</option>
                  <option value="succeeded">Succeeded</option>
                  <option value="failed">Failed</option>
                  <option value="canceled">Canceled</option>
                </select>
              </div>
            </form>
            <div class="table-wrap">
              <table id="jobs-table" class="jobs">
                <caption class="visually-hidden">Recent jobs, newest first. Open one for its details and charts.</caption>
                <thead><tr><th scope="col">Job</th><th scope="col">Submitted</th><th scope="col">Status</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Duration</th><th scope="col">Progress</th></tr></thead>
                <tbody></tbody>
              </table>
            </div>
            <p id="jobs-empty" class="placeholder" hidden>No jobs yet. Upload a file under <a href="#batch">Batch</a>.</p>
            <p id="jobs-error" class="errors" role="alert" hidden></p>
            <nav class="pager" aria-label="Job list pages">
              <button type="button" id="jobs-newer" class="secondary" hidden>Newer jobs</button>
              <span id="jobs-page" class="hint"></span>
              <button type="button" id="jobs-older" class="secondary" hidden>Older jobs</button>
            </nav>
          </div>
          <div id="job-details" hidden></div>
        </section>
        """;

    private static string ModelSection(ModelCard card)
    {
        var m = card.Metrics;
        var cm = m.ConfusionMatrix;
        return $"""
            <section id="model" class="panel" aria-labelledby="model-title">
              <h1 id="model-title" tabindex="-1">How good is the model?</h1>
              <div id="model-summary">
              <p class="lead">It learned from {card.TrainRows.ToString("N0", Invariant)} flights of 2017 and was tested on {card.TestRows.ToString("N0", Invariant)} other flights it had not seen.
                Version <code>{Encoder.Encode(card.Version)}</code>, {Encoder.Encode(card.Algorithm)}, trained {card.TrainedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", Invariant)} UTC.</p>
              <ul class="tiles">
                {Tile("ROC AUC", m.RocAuc.ToString("0.000", Invariant), "How well it ranks delayed flights above on-time ones: 0.5 is a coin toss, 1 is perfect.")}
                {Tile("Recall", Percent(m.Recall), "Of the flights that were delayed, the share it flagged.")}
                {Tile("Precision", Percent(m.Precision), "Of the flights it flagged, the share that were delayed.")}
                {Tile("Accuracy", Percent(m.Accuracy), "Of all test flights, the share it got right.")}
                {Tile("F1", m.F1.ToString("0.000", Invariant), "Precision and recall in one number.")}
              </ul>
              <div class="split">
                <figure class="card">
                  <figcaption>Confusion matrix (test flights)</figcaption>
                  <table class="confusion">
                    <thead><tr><td></td><th scope="col">Predicted on time</th><th scope="col">Predicted delayed</th></tr></thead>
                    <tbody>
                      <tr><th scope="row">Were on time</th><td class="right">{cm[0][0].ToString("N0", Invariant)}</td><td class="wrong">{cm[0][1].ToString("N0", Invariant)}</td></tr>
                      <tr><th scope="row">Were delayed</th><td class="wrong">{cm[1][0].ToString("N0", Invariant)}</td><td class="right">{cm[1][1].ToString("N0", Invariant)}</td></tr>
                    </tbody>
                  </table>
                  <p class="hint">The model flags flights from a {(card.Calibration is { } c ? Percent(c.DecisionThreshold) : "50%")} chance of a delay on. It is tuned to catch most delays, so it also flags many flights that leave on time.</p>
                </figure>
                <figure class="card">
                  <figcaption>ROC curve (AUC {m.RocAuc.ToString("0.000", Invariant)})</figcaption>
                  <div class="chart" id="roc-chart"></div>
                  <p class="hint">Each point is a cut-off: the share of delayed flights caught against the share of on-time flights wrongly flagged. The diagonal is guessing.</p>
                </figure>
              </div>
              </div>
              {LifecycleSections()}
              <div id="model-details">
              {CalibrationFigures(card)}
              {TrainingFigures(card.Training)}
              </div>
            </section>
            """;
    }

    /// <summary>
    /// The registry's side of the tab, filled by <c>app.js</c> from <c>/v1/models</c>: live quality from reported
    /// outcomes, the versions with their roles (promote, challenge, retire) and the challenger's comparison. The served
    /// card's figures around it are wrapped (<c>model-summary</c>, <c>model-details</c>) so that the script can swap in
    /// the server's rendering of a newly promoted card.
    /// </summary>
    private static string LifecycleSections() => """
        <noscript><p class="notice">Live quality, the versions and the challenger need JavaScript; the API has them at <a href="/v1/models">/v1/models</a> (see the <a href="/docs">API docs</a>).</p></noscript>
        <section id="model-quality" class="lifecycle needs-js" aria-labelledby="quality-title">
          <h2 id="quality-title" tabindex="-1">How good is it on real flights?</h2>
          <p class="lead">Live quality: the flights a version scored whose outcome was reported, over the last 30 days, against its figures on the test flights.</p>
          <form id="quality-form" class="filter">
            <div>
              <label for="quality-version">Version</label>
              <select id="quality-version" name="version"></select>
            </div>
          </form>
          <div id="quality" aria-live="polite"></div>
        </section>
        <section id="model-versions" class="lifecycle needs-js" aria-labelledby="versions-title">
          <div class="panel-head">
            <h2 id="versions-title">Versions</h2>
            <button type="button" id="models-refresh" class="secondary">Refresh</button>
          </div>
          <p class="lead">The <strong>champion</strong> scores every request and job that names no version. A <strong>challenger</strong> scores every job beside it, in the shadow: its answers are stored for the comparison below, never returned. Changing roles needs an admin API key when the service uses keys.</p>
          <div class="table-wrap">
            <table id="versions-table" class="versions">
              <caption class="visually-hidden">Registered model versions, newest first, with their roles and test ROC AUC.</caption>
              <thead><tr><th scope="col">Version</th><th scope="col">Role</th><th scope="col">Algorithm</th><th scope="col">Trained</th><th scope="col" class="num">Test ROC AUC</th><th scope="col">Source</th><th scope="col">Registered</th><th scope="col">Actions</th></tr></thead>
              <tbody></tbody>
            </table>
          </div>
          <p id="versions-status" class="status" role="status" tabindex="-1"></p>
          <div id="versions-message"></div>
        </section>
        <section id="model-challenger" class="lifecycle needs-js" aria-labelledby="challenger-title">
          <h2 id="challenger-title" tabindex="-1">Challenger against champion</h2>
          <div id="comparison" aria-live="polite"></div>
        </section>
        """;

    /// <summary>
    /// The reliability of the probability (the card's bands, as a chart drawn by <c>app.js</c> and as a table) and
    /// what that means for one prediction, in words, from the card's figures.
    /// </summary>
    private static string CalibrationFigures(ModelCard card)
    {
        if (card.Calibration is not { } c) return "";
        var bands = string.Concat(c.Reliability.Select(b =>
            $"<tr><th scope=\"row\">{Percent(b.From, 0)}–{Percent(b.To, 0)}</th><td class=\"num\">{b.Flights.ToString("N0", Invariant)}</td><td class=\"num\">{(b.Flights == 0 ? "–" : Percent(b.MeanProbability))}</td><td class=\"num\">{(b.Flights == 0 ? "–" : Percent(b.ObservedRate))}</td></tr>"));
        var busiest = c.Reliability.OrderByDescending(b => b.Flights).First();
        return $"""
            <h2 id="calibration-title">Can I trust the percentage?</h2>
            <div class="split">
              <figure class="card">
                <figcaption>Predicted chance against what happened (test flights)</figcaption>
                <div class="chart" id="reliability-chart"></div>
                <p class="hint">Each dot is a band of predictions: its mean predicted chance across, the share of those flights that were delayed up. On the dashed diagonal the chance means exactly what it says; bigger dots hold more flights.</p>
                <details><summary>The numbers</summary><table class="data" id="reliability-table"><thead><tr><th scope="col">Predicted</th><th scope="col" class="num">Flights</th><th scope="col" class="num">Mean predicted</th><th scope="col" class="num">Delayed</th></tr></thead><tbody>{bands}</tbody></table></details>
              </figure>
              <div class="card" id="one-prediction">
                <h3>What this means for one prediction</h3>
                <ul>
                  <li><strong>The percentage is a real chance.</strong> Of the {busiest.Flights.ToString("N0", Invariant)} test flights given {Percent(busiest.From, 0)} to {Percent(busiest.To, 0)}, {Percent(busiest.ObservedRate)} were delayed. Over all test flights the mean chance was {Percent(c.MeanProbability)}, and {Percent(c.ObservedRate)} were delayed.</li>
                  <li><strong>A flag is not a forecast.</strong> The model flags a flight from a {Percent(c.DecisionThreshold)} chance on. Of the flagged test flights, {Percent(card.Metrics.Precision)} were delayed (its hit rate); it caught {Percent(card.Metrics.Recall)} of the delayed ones.</li>
                  <li><strong>Most flights look alike to it.</strong> It knows only airline, flight type and month, so it ranks risk (AUC {card.Metrics.RocAuc.ToString("0.000", Invariant)}) but rarely gives more than {Percent(HighestBusyBand(c))}: weather, the time of day and the previous leg are not in its data.</li>
                </ul>
                <p class="hint">Calibration: {Encoder.Encode(c.Method)}; Brier score {c.Brier.ToString("0.0000", Invariant)} (lower is better; {c.UncalibratedBrier.ToString("0.0000", Invariant)} before calibration); expected calibration error {Percent(c.ExpectedCalibrationError, 2)}.</p>
              </div>
            </div>
            """;
    }

    /// <summary>The top of the highest band that holds at least 1% of the test flights: "rarely more than" that.</summary>
    private static double HighestBusyBand(CalibrationReport c)
    {
        var total = c.Reliability.Sum(b => b.Flights);
        return c.Reliability.Where(b => b.Flights >= total / 100.0).Select(b => b.To).DefaultIfEmpty(1).Max();
    }

    private static string TrainingFigures(TrainingStatistics? training)
    {
        if (training is null) return "";
        var airlines = string.Concat(training.ByAirline.Select(a =>
            $"<tr><th scope=\"row\">{Encoder.Encode(a.Airline)}</th><td class=\"num\">{a.Flights.ToString("N0", Invariant)}</td><td class=\"num\">{a.Delayed.ToString("N0", Invariant)}</td><td class=\"num\">{Percent(a.DelayRate)}</td></tr>"));
        var months = string.Concat(training.ByMonth.Select(m =>
            $"<tr><th scope=\"row\">{MonthName(m.Month)}</th><td class=\"num\">{m.Flights.ToString("N0", Invariant)}</td><td class=\"num\">{m.Delayed.ToString("N0", Invariant)}</td><td class=\"num\">{Percent(m.DelayRate)}</td></tr>"));
        const string head = "<thead><tr><th scope=\"col\"></th><th scope=\"col\" class=\"num\">Flights</th><th scope=\"col\" class=\"num\">Delayed</th><th scope=\"col\" class=\"num\">Rate</th></tr></thead>";
        return $"""
            <h2>What the training data shows</h2>
            <p>{Percent(training.DelayRate)} of the {training.Flights.ToString("N0", Invariant)} training flights left more than 15 minutes late.</p>
            <div class="split">
              <figure class="card">
                <figcaption>Delay rate by airline</figcaption>
                <div class="chart" id="airline-chart"></div>
                <details><summary>The numbers</summary><table class="data">{head}<tbody>{airlines}</tbody></table></details>
              </figure>
              <figure class="card">
                <figcaption>Delay rate by month</figcaption>
                <div class="chart" id="month-chart"></div>
                <details><summary>The numbers</summary><table class="data">{head}<tbody>{months}</tbody></table></details>
              </figure>
            </div>
            """;
    }

    private static string KeyDialog() => """
        <dialog id="key-dialog" aria-labelledby="key-title">
          <form method="dialog" id="key-form">
            <h2 id="key-title">This service needs an API key</h2>
            <p>The key is kept in this browser tab only (session storage) and sent with each request.</p>
            <label for="key-input">API key</label>
            <input id="key-input" name="key" type="password" autocomplete="off" spellcheck="false">
            <p id="key-error" class="errors" role="alert"></p>
            <div class="actions">
              <button type="button" id="key-cancel" class="secondary">Cancel</button>
              <button type="submit" value="ok">Use this key</button>
            </div>
          </form>
        </dialog>
        """;

    private static string CancelDialog() => """
        <dialog id="cancel-dialog" aria-labelledby="cancel-title" aria-describedby="cancel-text">
          <form method="dialog">
            <h2 id="cancel-title">Cancel this job?</h2>
            <p id="cancel-text"></p>
            <div class="actions">
              <button type="submit" value="keep" id="cancel-keep" class="secondary">Keep it running</button>
              <button type="submit" value="cancel-job" class="danger">Cancel job</button>
            </div>
          </form>
        </dialog>
        """;

    private static string Tile(string name, string value, string hint) =>
        $"""<li class="tile"><span class="tile-value">{value}</span> <span class="tile-name">{name}</span> <span class="tile-hint">{hint}</span></li>""";

    private static string Percent(double share, int digits = 1) => Fixed(share * 100, digits) + "%";

    /// <summary>
    /// A number with <paramref name="digits"/> decimals, rounded as app.js's <c>fixed</c> rounds it (the same floating-point
    /// steps, halves up), so the markup and the script never differ in the last digit.
    /// </summary>
    internal static string Fixed(double value, int digits)
    {
        var scale = Math.Pow(10, digits);
        return (Math.Floor(value * scale + 0.5) / scale).ToString("F" + digits.ToString(Invariant), Invariant);
    }

    private static string MonthName(int month) => Invariant.DateTimeFormat.GetMonthName(month);

    private static string Megabytes(long bytes) => (bytes / (1024 * 1024)).ToString("N0", Invariant) + " MB";
}
