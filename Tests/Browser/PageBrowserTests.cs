using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Playwright;
using static FlightDelay.Tests.Browser.PageChecks;
using static Microsoft.Playwright.Assertions;

namespace FlightDelay.Tests.Browser;

/// <summary>
/// The page as a person uses it, in a real browser against the real API: predict a flight, upload a file and
/// follow the job to its results, a bad file, canceling, the job list and charts, the model card, an API key,
/// and the form without JavaScript. Each test saves screenshots under <see cref="BrowserFixture.Screenshots"/>.
/// </summary>
public sealed partial class PageBrowserTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly TimeSpan JobDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Picking_a_flight_shows_the_verdict_the_probability_as_a_bar_and_the_model_version()
    {
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/");

        await page.GetByLabel("Airline").SelectOptionAsync("Grupo LATAM");
        await page.GetByLabel("International", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Month").SelectOptionAsync(new SelectOptionValue { Label = "July" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();

        var expected = (await browser.Api.PredictAsync([("Grupo LATAM", "I", 7)]))[0];
        var version = (await browser.Api.GetFromJsonAsync<JsonElement>("/v1/model")).GetProperty("version").GetString()!;
        var result = page.Locator("#result");
        await Expect(result.Locator(".verdict")).ToHaveTextAsync(expected.Delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk");
        var percent = (expected.Probability * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        await Expect(result.Locator(".chance-value")).ToHaveTextAsync(percent);
        await Expect(result.Locator("svg.prob-bar")).ToHaveAttributeAsync("aria-label", new Regex(Regex.Escape(percent)));
        Assert.Equal(Math.Round(expected.Probability * 100, 1), double.Parse(await result.Locator("svg.prob-bar rect.fill").GetAttributeAsync("width") ?? "", CultureInfo.InvariantCulture), 1);
        await Expect(result.Locator(".model-version code")).ToHaveTextAsync(version);
        await Expect(result.Locator(".rates")).ToContainTextAsync("Grupo LATAM");
        // Answered through /v1/predictions: the page did not post the form.
        Assert.Equal(new Uri(browser.BaseAddress, "/").ToString(), page.Url);
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "predict");

        // The same page on a phone: one column, nothing cut off.
        await page.SetViewportSizeAsync(390, 844);
        await Expect(result.Locator(".verdict")).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways on a phone");
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "predict-phone");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Without_javascript_the_form_posts_and_the_server_renders_the_answer()
    {
        await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { JavaScriptEnabled = false });
        var page = watched.Page;
        await page.GotoAsync("/");

        await page.GetByLabel("Airline").SelectOptionAsync("Sky Airline");
        await page.GetByLabel("National", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Month").SelectOptionAsync(new SelectOptionValue { Label = "March" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();

        await page.WaitForURLAsync("**/predict");
        var expected = (await browser.Api.PredictAsync([("Sky Airline", "N", 3)]))[0];
        await Expect(page.Locator("#result .verdict")).ToHaveTextAsync(expected.Delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk");
        await Expect(page.GetByLabel("Airline")).ToHaveValueAsync("Sky Airline");
        await ScreenshotAsync(page, "predict-without-javascript");
    }

    [Fact]
    public async Task A_20000_row_csv_is_uploaded_its_progress_reaches_100_percent_and_the_results_download()
    {
        var flights = JobApi.Flights(20_000, seed: 11);
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Score a whole file of flights" })).ToBeVisibleAsync();
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "batch");
        await RecordProgressAsync(page);

        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload
        {
            Name = "flights-20000.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(JobApi.Csv(flights)),
        });

        var job = page.Locator("#current-job article.job");
        await Expect(page.Locator("#upload-status")).ToHaveTextAsync("flights-20000.csv: 20,000 flights accepted.", new() { Timeout = 30_000 });
        await Expect(job).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = (float)JobDeadline.TotalMilliseconds });
        await Expect(job.Locator(".progress-text")).ToContainTextAsync("20,000 of 20,000 rows (100%)");
        await Expect(job.Locator("progress")).ToHaveJSPropertyAsync("value", 1);

        // What the page showed on the way: it never went back, and ended at 100%. (It may start past 0: chunks are scored
        // while the upload streams.)
        var seen = (await page.EvaluateAsync<JsonElement>("() => window.__progress")).EnumerateArray()
            .Select(s => new Seen(s.GetProperty("status").GetString()!, s.GetProperty("value").GetDouble())).ToList();
        Assert.Equal(("succeeded", 1.0), (seen[^1].Status, seen[^1].Value));
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.Second.Value >= p.First.Value), "progress went back: " + string.Join(", ", seen.Select(s => s.Value)));
        await ScreenshotAsync(page, "batch-job-succeeded");

        // The download: one line per flight, in order, with the answers the synchronous API gives.
        var download = await page.RunAndWaitForDownloadAsync(() => job.GetByRole(AriaRole.Link, new() { Name = "Download results (CSV)" }).ClickAsync());
        var path = Path.Combine(Path.GetTempPath(), $"flightdelay-download-{Guid.NewGuid():N}.csv");
        await download.SaveAsAsync(path);
        var lines = await File.ReadAllLinesAsync(path);
        File.Delete(path);
        // With the flight each row scored, to join back on.
        Assert.Equal("row,delayed,probability,model_version,airline,flightType,month", lines[0]);
        Assert.Equal(20_001, lines.Length);
        var expected = await browser.Api.PredictAsync(flights);
        var rows = lines.Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(Enumerable.Range(1, 20_000), rows.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)));
        Assert.Equal(expected.Select(e => e.Delayed ? "1" : "0"), rows.Select(r => r[1]));
        Assert.All(rows, r => Assert.StartsWith("m-", r[3]));
        Assert.Equal(flights.Select(f => (f.Airline, f.FlightType, f.Month.ToString(CultureInfo.InvariantCulture))), rows.Select(r => (r[4], r[5], r[6])));
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task A_semicolon_excel_export_with_aliases_is_scored_and_a_typo_is_told_what_it_may_mean()
    {
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");

        // As Excel saves "CSV (semicolon)": its sep= line, human headers, an id column, an alias, a month name, a typo.
        await DropAsync(page, "sep=;\r\nFlight ID;Airline;Flight Type;Month\r\nA1;LATAM;International;Jul\r\nA2;Iberai;N;3\r\n", "export.csv");
        var problem = page.Locator("#upload-errors [role=alert]");
        await Expect(problem.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(problem.Locator("tbody tr td").Nth(2)).ToContainTextAsync("Unknown airline 'Iberai'. Did you mean 'Iberia'?");

        await DropAsync(page, "sep=;\r\nFlight ID;Airline;Flight Type;Month\r\nA1;LATAM;International;Jul\r\nA2;Iberia;N;3\r\n", "export.csv");
        var job = page.Locator("#current-job article");
        await Expect(job).ToContainTextAsync("export.csv", new() { Timeout = 30_000 });
        await Expect(job).ToContainTextAsync("succeeded", new() { Timeout = 30_000 });
        watched.AssertNoErrors();
    }

    private static async Task DropAsync(Microsoft.Playwright.IPage page, string content, string name) =>
        await page.Locator("#dropzone").EvaluateAsync("""
            (zone, [content, name]) => {
              const data = new DataTransfer();
              data.items.add(new File([content], name, { type: "text/csv" }));
              zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }
            """, new[] { content, name });

    [Fact]
    public async Task A_bad_csv_dropped_on_the_page_is_refused_with_the_row_and_what_is_wrong()
    {
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        var before = await JobCountAsync();

        // Dropped rather than picked: the drop zone's path.
        await page.Locator("#dropzone").EvaluateAsync("""
            zone => {
              const data = new DataTransfer();
              data.items.add(new File(["airline,flightType,month\nGrupo LATAM,I,7\nSky Airline,N,3\nPan Am,I,7\nIberia,X,3\n"], "bad-flights.csv", { type: "text/csv" }));
              zone.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }
            """);

        var problem = page.Locator("#upload-errors [role=alert]");
        await Expect(problem.Locator("h3")).ToHaveTextAsync("bad-flights.csv was not accepted");
        await Expect(problem).ToContainTextAsync("Nothing was stored");
        var first = problem.Locator("tbody tr").First;
        await Expect(first.Locator("td").Nth(0)).ToHaveTextAsync("3");
        await Expect(first.Locator("td").Nth(1)).ToContainTextAsync("line 4");
        await Expect(first.Locator("td").Nth(2)).ToContainTextAsync("Unknown airline 'Pan Am'");
        await Expect(problem.Locator("tbody tr")).ToHaveCountAsync(2);
        await Expect(problem.Locator("tbody tr").Nth(1).Locator("td").Nth(2)).ToContainTextAsync("flightType");
        await Expect(page.Locator("#current-job article")).ToHaveCountAsync(0);
        Assert.Equal(before, await JobCountAsync());
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "batch-bad-file");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task A_running_job_is_canceled_from_the_page()
    {
        // 6,000 chunks of 100 rows scored one at a time (tens of seconds): still running when the button is pressed.
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload
        {
            Name = "many-flights.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(600_000, seed: 5))),
        });

        var job = page.Locator("#current-job article.job");
        await Expect(job).ToHaveAttributeAsync("data-status", "running", new() { Timeout = 60_000 });
        // While it runs: rows done of total, the rate and the time left.
        await Expect(job.Locator(".progress-text")).ToHaveTextAsync(new Regex(@"^[\d,]+ of 600,000 rows \(\d+%\) · [\d,]+ rows/s · about .+ left$"));
        await ScreenshotAsync(page, "batch-job-running");
        // Canceling asks first; keeping it running changes nothing.
        var confirm = page.GetByRole(AriaRole.Dialog, new() { Name = "Cancel this job?" });
        await job.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        await Expect(confirm).ToContainTextAsync("many-flights.csv");
        await Expect(confirm).ToContainTextAsync("cannot be undone");
        await ScreenshotAsync(page, "batch-cancel-confirm");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Keep it running" }).ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(job).ToHaveAttributeAsync("data-status", "running");

        // The service reports a chunk still being scored for two more polls: the card says "canceling" until it settles.
        var settling = 2;
        await page.RouteAsync("**/v1/jobs/*", async route =>
        {
            var response = await route.FetchAsync();
            var body = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!;
            var isCancel = route.Request.Method == "POST";
            if (body["status"]?.GetValue<string>() == "canceled" && (isCancel || Interlocked.Decrement(ref settling) >= 0))
            {
                body["chunksInFlight"] = 1;
                // No ETag: the next poll must get a fresh answer.
                await route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = "application/json", Body = body.ToJsonString() });
                return;
            }
            await route.FulfillAsync(new RouteFulfillOptions { Response = response });
        });
        await page.RouteAsync("**/v1/jobs/*/cancel", async route =>
        {
            var response = await route.FetchAsync();
            var body = System.Text.Json.Nodes.JsonNode.Parse(await response.TextAsync())!;
            body["chunksInFlight"] = 1;
            await route.FulfillAsync(new RouteFulfillOptions { Status = (int)response.Status, ContentType = "application/json", Body = body.ToJsonString() });
        });
        await job.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).ClickAsync();
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel job" }).ClickAsync();
        await Expect(job.Locator(".badge")).ToHaveTextAsync("canceling");
        await Expect(job.Locator(".progress-text")).ToContainTextAsync("canceling: 1 chunk in progress will finish first");
        await Expect(job.GetByRole(AriaRole.Link, new() { Name = "Download results (CSV)" })).ToBeHiddenAsync();

        await Expect(job).ToHaveAttributeAsync("data-status", "canceled");
        await Expect(job.Locator(".badge")).ToHaveTextAsync("canceled");
        await Expect(job.GetByRole(AriaRole.Alert)).ToContainTextAsync("Canceled:");
        await Expect(job.GetByRole(AriaRole.Button, new() { Name = "Cancel job" })).ToBeHiddenAsync();
        var id = Guid.Parse((await job.GetAttributeAsync("data-job"))!);
        var state = await browser.Api.GetJobAsync(id);
        Assert.Equal("canceled", state.GetProperty("status").GetString());
        Assert.InRange(state.GetProperty("processedRows").GetInt32(), 0, 599_999);
        await ScreenshotAsync(page, "batch-job-canceled");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task The_job_list_opens_a_job_with_its_probability_histogram_and_delay_share_by_airline()
    {
        var flights = JobApi.Flights(3_000, seed: 3);
        var id = await browser.Api.SubmitAsync(JobApi.Csv(flights));
        await browser.Api.WaitForStatusAsync(id, "succeeded", JobDeadline);

        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#jobs");
        var row = page.Locator($"#jobs-table tr[data-job='{id}']");
        await Expect(row).ToHaveAttributeAsync("data-status", "succeeded");
        await Expect(row.Locator("td").Nth(3)).ToHaveTextAsync("3,000");
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync(new Regex(@"\d+(\.\d)? (s|min)"));
        await ScreenshotAsync(page, "jobs");

        // Keyboard only: focus the job's link and press Enter.
        await row.GetByRole(AriaRole.Link).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync($"**/#jobs/{id}");
        var details = page.Locator($"#job-details article[data-job='{id}']");
        await Expect(details.Locator("h1")).ToBeFocusedAsync();
        await Expect(details.Locator(".progress-text")).ToContainTextAsync("3,000 of 3,000 rows (100%)");

        var results = await browser.Api.AllResultsAsync(id);
        var bins = new int[10];
        foreach (var r in results) bins[Math.Min((int)(r.GetProperty("probability").GetSingle() * 10), 9)]++;
        var histogram = page.Locator("#job-histogram svg");
        await Expect(histogram.Locator("rect.bar")).ToHaveCountAsync(10);
        await Expect(histogram).ToHaveAttributeAsync("aria-label", new Regex(string.Join(", ", bins.Select((c, i) => $"{i * 10}–{(i + 1) * 10} {c:N0}"))));
        await Expect(page.Locator("#job-histogram figcaption")).ToHaveTextAsync("Predicted delay probabilities (3,000 rows)");

        var airlines = page.Locator("#job-airlines svg");
        var inJob = flights.Select(f => f.Airline).Distinct().ToList();
        await Expect(airlines.Locator("rect.bar")).ToHaveCountAsync(inJob.Count);
        // Each airline's bar is the delays to expect (the mean chance of its rows).
        var grupo = flights.Select((f, i) => (f.Airline, Probability: (double)results[i].GetProperty("probability").GetSingle())).Where(x => x.Airline == "Grupo LATAM").ToList();
        var share = (int)Math.Round(100.0 * grupo.Average(x => x.Probability), MidpointRounding.AwayFromZero);
        await Expect(airlines).ToContainTextAsync($"{share}% of {grupo.Count:N0}");
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "job-details");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task The_model_tab_shows_metrics_confusion_matrix_roc_curve_and_training_delay_rates()
    {
        await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        var page = watched.Page;
        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Link, new() { Name = "Model", Exact = true }).ClickAsync();

        var card = await browser.Api.GetFromJsonAsync<JsonElement>("/v1/model");
        var metrics = card.GetProperty("metrics");
        await Expect(page.Locator("#model-title")).ToBeFocusedAsync();
        await Expect(page.Locator("#predict")).ToBeHiddenAsync();
        await Expect(page.Locator(".tiles")).ToContainTextAsync(metrics.GetProperty("rocAuc").GetDouble().ToString("0.000", CultureInfo.InvariantCulture));
        var tp = metrics.GetProperty("confusionMatrix")[1][1].GetInt64();
        await Expect(page.Locator("table.confusion")).ToContainTextAsync(tp.ToString("N0", CultureInfo.InvariantCulture));
        await Expect(page.Locator("#roc-chart svg polyline.curve")).ToHaveCountAsync(1);
        await Expect(page.Locator("#airline-chart svg rect.bar")).ToHaveCountAsync(FlightSchema.Airlines.Count);
        await Expect(page.Locator("#month-chart svg rect.bar")).ToHaveCountAsync(12);
        await Expect(page.Locator("#month-chart svg")).ToHaveAttributeAsync("aria-label", new Regex("Jul \\d+%"));
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "model");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task In_dark_mode_the_page_stays_readable()
    {
        await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { ColorScheme = ColorScheme.Dark });
        var page = watched.Page;
        await page.GotoAsync("/");
        await page.GetByLabel("Airline").SelectOptionAsync("JetSmart SPA");
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
        await Expect(page.Locator("#result .verdict")).ToBeVisibleAsync();
        Assert.Equal("dark", await page.EvaluateAsync<string>("() => matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'"));

        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "predict-dark");
        await page.GotoAsync("/#model");
        await Expect(page.Locator("#roc-chart svg")).ToBeVisibleAsync();
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "model-dark");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task When_the_service_wants_an_api_key_the_page_asks_once_and_keeps_it_for_the_session()
    {
        // The API's answer when keys are on, played by the browser's router: 401 without the right X-Api-Key.
        const string key = "k-test-123";
        var asked = 0;
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.RouteAsync("**/v1/**", async route =>
        {
            if (route.Request.Headers.TryGetValue("x-api-key", out var sent) && sent == key)
            {
                await route.ContinueAsync();
                return;
            }
            Interlocked.Increment(ref asked);
            await route.FulfillAsync(new RouteFulfillOptions
            {
                Status = 401, ContentType = "application/problem+json",
                Body = """{"title":"An API key is required.","status":401}""",
            });
        });
        await page.GotoAsync("/");

        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "This service needs an API key" });
        await Expect(dialog).ToBeVisibleAsync();
        await ScreenshotAsync(page, "api-key");
        await dialog.GetByLabel("API key").FillAsync("wrong");
        await page.Keyboard.PressAsync("Enter");
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToHaveTextAsync("That key was not accepted; try another.");
        await dialog.GetByLabel("API key").FillAsync(key);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Use this key" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#key-state")).ToBeVisibleAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
        await Expect(page.Locator("#result .verdict")).ToBeVisibleAsync();
        Assert.Equal(key, await page.EvaluateAsync<string>("() => sessionStorage.getItem('flightdelay.apiKey')"));
        var refused = asked;
        await page.ReloadAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
        await Expect(page.Locator("#result .verdict")).ToBeVisibleAsync();
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(refused, asked);
        watched.AssertNoErrors();
    }

    private sealed record Seen(string Status, double Value);

    /// <summary>Records every progress value and status the Batch tab's job card shows, as they change.</summary>
    private static async Task RecordProgressAsync(IPage page) => await page.EvaluateAsync("""
        () => {
          window.__progress = [];
          const record = () => {
            const job = document.querySelector("#current-job article.job");
            if (!job) return;
            const last = window.__progress[window.__progress.length - 1];
            const now = { status: job.dataset.status, value: job.querySelector("progress").value };
            if (!last || last.status !== now.status || last.value !== now.value) window.__progress.push(now);
          };
          new MutationObserver(record).observe(document.querySelector("#current-job"), { subtree: true, childList: true, attributes: true, characterData: true });
        }
        """);

    private async Task<int> JobCountAsync()
    {
        var list = await browser.Api.GetFromJsonAsync<JsonElement>("/v1/jobs?limit=100");
        return list.GetProperty("items").GetArrayLength();
    }

    private async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(browser.Screenshots, name + ".png"), FullPage = true });
}
