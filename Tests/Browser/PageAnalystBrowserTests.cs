using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using FlightDelay.Processing.Jobs;
using FlightDelay.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;
using static FlightDelay.Tests.Browser.PageChecks;
using static Microsoft.Playwright.Assertions;

namespace FlightDelay.Tests.Browser;

/// <summary>
/// The page as an analyst reads it (issue 18): true numbers (the calibrated chance against the base rates, the flag's
/// hit rate, the reliability chart, the job's expected delays), a connection that drops and comes back, uploads
/// that fail on the network or are no CSV at all, named jobs with filter, search and paging, and a phone.
/// </summary>
public sealed partial class PageBrowserTests
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>A share as the page writes it (PageHtml.Fixed, and app.js's fixed: halves up).</summary>
    private static string Pct(double share, int digits = 1) => FlightDelay.Api.Page.PageHtml.Fixed(share * 100, digits) + "%";

    [Fact]
    public async Task The_answer_puts_the_calibrated_chance_beside_the_base_rates_the_flags_hit_rate_and_the_year()
    {
        var card = await browser.Api.GetFromJsonAsync<JsonElement>("/v1/model");
        var training = card.GetProperty("training");
        var calibration = card.GetProperty("calibration");
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/");
        await Expect(page).ToHaveTitleAsync("Predict a delay · FlightDelay");

        await page.GetByLabel("Airline").SelectOptionAsync("Grupo LATAM");
        await page.GetByLabel("International", new() { Exact = true }).CheckAsync();
        await page.GetByLabel("Month").SelectOptionAsync(new SelectOptionValue { Label = "July" });
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();

        var year = await browser.Api.PredictAsync([.. Enumerable.Range(1, 12).Select(m => ("Grupo LATAM", "I", m))]);
        var july = year[6];
        var result = page.Locator("#result");
        await Expect(result.Locator(".chance-value")).ToHaveTextAsync(Pct(july.Probability));
        // Against the average flight, from the card's overall rate: "2.0× the average flight".
        var average = training.GetProperty("delayRate").GetDouble();
        await Expect(result.Locator(".relative")).ToContainTextAsync($"{FlightDelay.Api.Page.PageHtml.Fixed(july.Probability / average, 1)}× the average flight");
        await Expect(result.Locator(".relative")).ToContainTextAsync(Pct(average));
        var airline = training.GetProperty("byAirline").EnumerateArray().Single(a => a.GetProperty("airline").GetString() == "Grupo LATAM");
        var month = training.GetProperty("byMonth")[6];
        await Expect(result.Locator(".rates")).ToContainTextAsync($"Grupo LATAM, all flights: {Pct(airline.GetProperty("delayRate").GetDouble())} of {airline.GetProperty("flights").GetInt32():N0} delayed");
        await Expect(result.Locator(".rates")).ToContainTextAsync($"All July flights: {Pct(month.GetProperty("delayRate").GetDouble())} of {month.GetProperty("flights").GetInt32():N0} delayed");
        // The flag, explained with its threshold and its hit rate on the test set.
        await Expect(result.Locator(".verdict")).ToHaveTextAsync(july.Delayed ? "Flagged as a delay risk" : "Not flagged as a delay risk");
        await Expect(result.Locator(".verdict-why")).ToContainTextAsync($"from a {Pct(calibration.GetProperty("decisionThreshold").GetDouble())} chance");
        if (july.Delayed) await Expect(result.Locator(".verdict-why")).ToContainTextAsync($"{Pct(calibration.GetProperty("hitRate").GetDouble())} of the flights it flagged");
        await Expect(result.Locator(".caution")).ToHaveCountAsync(0);
        // The year: twelve columns, July the chosen one, each the service's chance for that month.
        var strip = page.Locator("#month-strip svg");
        await Expect(strip.Locator("rect.bar")).ToHaveCountAsync(12);
        await Expect(strip.Locator("rect.bar.chosen")).ToHaveCountAsync(1);
        await Expect(strip).ToHaveAttributeAsync("aria-label",
            new Regex(Regex.Escape(string.Join(", ", year.Select((p, i) => $"{Invariant.DateTimeFormat.GetMonthName(i + 1)[..3]} {Pct(p.Probability, 0)}")))));
        await Expect(strip.Locator("text.axis-title")).ToHaveTextAsync("Chance of a delay");
        Assert.Equal(6, await strip.Locator("rect.bar").EvaluateAllAsync<int>("bars => bars.findIndex(b => b.classList.contains('chosen'))"));
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "predict-after");

        // The server renders the same answer for a browser without JavaScript.
        var scripted = await result.Locator(".answer").InnerTextAsync();
        await using (var plain = await browser.OpenAsync(new BrowserNewContextOptions { JavaScriptEnabled = false }))
        {
            await plain.Page.GotoAsync("/");
            await plain.Page.GetByLabel("Airline").SelectOptionAsync("Grupo LATAM");
            await plain.Page.GetByLabel("International", new() { Exact = true }).CheckAsync();
            await plain.Page.GetByLabel("Month").SelectOptionAsync(new SelectOptionValue { Label = "July" });
            await plain.Page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
            // The answer is the document itself: wait for it, not for every subresource's load event.
            await plain.Page.WaitForURLAsync("**/predict", new() { WaitUntil = WaitUntilState.DOMContentLoaded });
            Assert.Equal(scripted, await plain.Page.Locator("#result .answer").InnerTextAsync());
        }

        // Combinations the training data hardly had, or never: a caution, from the card's counts.
        var combos = training.GetProperty("byAirlineType").EnumerateArray()
            .Select(c => (Airline: c.GetProperty("airline").GetString()!, Type: c.GetProperty("flightType").GetString()!, Flights: c.GetProperty("flights").GetInt32())).ToList();
        var never = combos.First(c => c.Flights == 0);
        var rare = combos.First(c => c.Flights is > 0 and < 100);
        foreach (var (combo, expected) in new[] { (never, "No training flights:"), (rare, $"only {rare.Flights:N0}") })
        {
            await page.GetByLabel("Airline").SelectOptionAsync(combo.Airline);
            await page.GetByLabel(combo.Type == "I" ? "International" : "National", new() { Exact = true }).CheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
            await Expect(result.Locator(".flight")).ToContainTextAsync($"{combo.Airline} · {(combo.Type == "I" ? "International" : "National")}");
            await Expect(result.Locator(".caution")).ToContainTextAsync(expected);
        }
        await ScreenshotAsync(page, "predict-caution");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task The_model_tab_draws_the_reliability_of_the_chance_and_says_what_it_means_for_one_prediction()
    {
        var card = await browser.Api.GetFromJsonAsync<JsonElement>("/v1/model");
        var calibration = card.GetProperty("calibration");
        var bands = calibration.GetProperty("reliability").EnumerateArray().Where(b => b.GetProperty("flights").GetInt32() > 0).ToList();
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#model");
        await Expect(page).ToHaveTitleAsync("The model · FlightDelay");

        var chart = page.Locator("#reliability-chart svg");
        await Expect(chart).ToBeVisibleAsync();
        // Every band with flights is in the chart's description; the busy ones are drawn as dots.
        foreach (var band in bands)
            await Expect(chart).ToHaveAttributeAsync("aria-label", new Regex(Regex.Escape(
                $"{band.GetProperty("flights").GetInt32():N0} flights, mean prediction {Pct(band.GetProperty("meanProbability").GetDouble())}, {Pct(band.GetProperty("observedRate").GetDouble())} delayed")));
        Assert.InRange(await chart.Locator("circle.band").CountAsync(), bands.Count(b => b.GetProperty("flights").GetInt32() >= 100), bands.Count);
        await Expect(chart.Locator("text.axis-title")).ToHaveTextAsync(["Predicted chance (band mean)", "Share delayed"]);
        await Expect(page.Locator("#reliability-table tbody tr")).ToHaveCountAsync(10);

        var meaning = page.Locator("#one-prediction");
        await Expect(meaning).ToContainTextAsync($"Of the flagged test flights, {Pct(calibration.GetProperty("hitRate").GetDouble())} were delayed");
        await Expect(meaning).ToContainTextAsync($"from a {Pct(calibration.GetProperty("decisionThreshold").GetDouble())} chance on");
        await Expect(meaning).ToContainTextAsync($"the mean chance was {Pct(calibration.GetProperty("meanProbability").GetDouble())}, and {Pct(calibration.GetProperty("observedRate").GetDouble())} were delayed");
        await Expect(meaning).ToContainTextAsync($"Brier score {calibration.GetProperty("brier").GetDouble().ToString("0.0000", Invariant)}");
        await AssertReadableAsync(page);
        // The table too: open under the chart, for the closing note.
        await page.Locator("figure:has(#reliability-chart) summary").ClickAsync();
        await Expect(page.Locator("#reliability-table")).ToBeVisibleAsync();
        // Clipped from the whole page (scrolled to the top), so the sticky header does not cover it.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        var box = (await page.Locator(".split:has(#reliability-chart)").BoundingBoxAsync())!;
        await page.ScreenshotAsync(new()
        {
            Path = Path.Combine(browser.Screenshots, "model-reliability.png"), FullPage = true,
            Clip = new Clip { X = box.X - 8, Y = box.Y - 56, Width = box.Width + 16, Height = box.Height + 64 },
        });
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task A_jobs_charts_have_axis_titles_the_delays_to_expect_and_the_historical_reference()
    {
        var id = await SubmitNamedAsync("charts-demo.csv", JobApi.Csv(JobApi.Flights(3_000, seed: 21)));
        await browser.Api.WaitForStatusAsync(id, "succeeded", JobDeadline);
        var summary = await browser.Api.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}/summary");

        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync($"/#jobs/{id}");
        var details = page.Locator($"#job-details article[data-job='{id}']");
        await Expect(details.Locator("h1")).ToHaveTextAsync("charts-demo.csv");
        await Expect(page).ToHaveTitleAsync("charts-demo.csv · Jobs · FlightDelay");
        await Expect(page.Locator("#job-histogram svg text.axis-title")).ToHaveTextAsync(["Predicted chance of a delay (%)", "Rows"]);
        await Expect(page.Locator("#job-airlines svg text.axis-title")).ToHaveTextAsync("Expected share delayed (mean chance)");
        var scored = summary.GetProperty("scoredRows").GetInt32();
        var expected = summary.GetProperty("expectedDelayed").GetDouble();
        var historical = summary.GetProperty("historicalDelayed").GetDouble();
        await Expect(page.Locator("#job-histogram .expected")).ToContainTextAsync($"Delayed flights to expect: {Math.Round(expected, MidpointRounding.AwayFromZero):N0} of {scored:N0} ({Pct(expected / scored)})");
        await Expect(page.Locator("#job-histogram .expected")).ToContainTextAsync($"2017 delay rates: {Math.Round(historical, MidpointRounding.AwayFromZero):N0} ({Pct(historical / scored)})");
        // A tick per airline at its 2017 rate.
        var airlines = summary.GetProperty("byAirline").GetArrayLength();
        await Expect(page.Locator("#job-airlines svg line.reference")).ToHaveCountAsync(airlines + 1);
        await Expect(details.GetByRole(AriaRole.Link, new() { Name = "Download results (CSV)" })).ToHaveAttributeAsync("download", "charts-demo-results.csv");
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "job-charts-after");
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task When_the_connection_drops_mid_job_one_banner_says_so_the_figures_freeze_and_all_of_it_clears_on_recovery()
    {
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload
        {
            Name = "outage.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(600_000, seed: 8))),
        });
        var job = page.Locator("#current-job article.job");
        await Expect(job).ToHaveAttributeAsync("data-status", "running", new() { Timeout = 60_000 });
        await Expect(job.Locator(".progress-text")).ToContainTextAsync("left");
        var id = Guid.Parse((await job.GetAttributeAsync("data-job"))!);

        // The service stops answering: every poll of the job fails at the network level.
        var failed = new List<DateTime>();
        await page.RouteAsync($"**/v1/jobs/{id}", async route =>
        {
            lock (failed) failed.Add(DateTime.UtcNow);
            await route.AbortAsync("internetdisconnected");
        });
        var banner = page.Locator("#connection");
        await Expect(banner).ToBeVisibleAsync();
        await Expect(banner).ToHaveTextAsync("Connection to the service lost, retrying…");
        var frozen = await job.Locator(".progress-text").TextContentAsync();
        await Poll.UntilAsync(() => Task.FromResult(Count(failed)), n => n >= 4, TimeSpan.FromSeconds(60), "four failed polls");
        // Rate and time left stay as they were; the card shows no error of its own; one banner on the page.
        Assert.Equal(frozen, await job.Locator(".progress-text").TextContentAsync());
        await Expect(job.GetByRole(AriaRole.Alert)).ToBeHiddenAsync();
        await Expect(page.Locator("#connection")).ToHaveCountAsync(1);
        // With backoff: the polls come further and further apart, not every half second.
        lock (failed) Assert.True(failed[3] - failed[2] >= TimeSpan.FromSeconds(1.5), "no backoff: " + string.Join(", ", failed.Select(f => f.ToString("HH:mm:ss.fff", Invariant))));
        await ScreenshotAsync(page, "batch-connection-lost");

        await page.UnrouteAsync($"**/v1/jobs/{id}");
        await Expect(banner).ToBeHiddenAsync(new() { Timeout = 30_000 });
        await Expect(job.Locator(".progress-text")).Not.ToHaveTextAsync(frozen!);
        await Expect(page.GetByText("could not be reached")).ToHaveCountAsync(0);
        await Expect(job.GetByRole(AriaRole.Alert)).ToBeHiddenAsync();
        await ScreenshotAsync(page, "batch-connection-back");
        await browser.Api.PostAsync($"/v1/jobs/{id}/cancel", null);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task An_upload_cut_off_by_the_network_is_a_connection_problem_with_a_retry_and_the_job_takes_the_files_name()
    {
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        await Expect(page).ToHaveTitleAsync("Score a file · FlightDelay");
        await page.RouteAsync("**/v1/jobs", route => route.AbortAsync("connectionreset"));
        var name = $"retry-{Guid.NewGuid():N}.csv"[..18] + ".csv";
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload
        {
            Name = name, MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(50, seed: 2))),
        });

        var problem = page.Locator("#upload-errors [role=alert]");
        await Expect(problem.Locator("h3")).ToHaveTextAsync($"The upload of {name} did not reach the service");
        await Expect(problem).ToContainTextAsync("there is nothing wrong with the file");
        await Expect(problem).Not.ToContainTextAsync("not accepted");
        await Expect(problem).ToBeFocusedAsync();
        await AssertBelowDropZoneAsync(page, problem);
        await ScreenshotAsync(page, "batch-upload-connection-problem");

        await page.UnrouteAsync("**/v1/jobs");
        await problem.GetByRole(AriaRole.Button, new() { Name = "Retry upload" }).ClickAsync();
        var job = page.Locator("#current-job article.job");
        await Expect(page.Locator("#upload-status")).ToHaveTextAsync($"{name}: 50 flights accepted.");
        await Expect(page.Locator("#upload-errors")).ToBeEmptyAsync();
        await Expect(job.Locator("h3")).ToHaveTextAsync(name);
        await Expect(job.Locator("h3")).ToBeFocusedAsync();
        await AssertBelowDropZoneAsync(page, job);
        var id = Guid.Parse((await job.GetAttributeAsync("data-job"))!);
        Assert.Equal(name, (await browser.Api.GetJobAsync(id)).GetProperty("name").GetString());
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task Too_big_a_file_and_a_workbook_are_explained_in_the_page_without_uploading()
    {
        var limit = browser.Factory.Services.GetRequiredService<IOptions<JobOptions>>().Value.MaxUploadBytes;
        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        var posts = 0;
        page.Request += (_, request) =>
        {
            if (request.Method == "POST" && request.Url.EndsWith("/v1/jobs", StringComparison.Ordinal)) Interlocked.Increment(ref posts);
        };
        await page.GotoAsync("/#batch");
        // The limit the page checks is the server's own.
        Assert.Equal(limit.ToString(Invariant), await page.Locator("#main").GetAttributeAsync("data-max-upload-bytes"));

        var problem = page.Locator("#upload-errors [role=alert]");
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload { Name = "huge.csv", MimeType = "text/csv", Buffer = new byte[limit + 1] });
        await Expect(problem.Locator("h3")).ToHaveTextAsync("huge.csv was not accepted");
        await Expect(problem).ToContainTextAsync($"up to {limit / 1024.0 / 1024.0:0.0} MB");
        await Expect(problem).ToBeFocusedAsync();

        // A workbook by its name, and one by its first bytes (an old .xls renamed .csv).
        byte[] zip = [0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00], ole = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
        foreach (var (file, bytes) in new[] { ("flights.xlsx", zip), ("export.csv", ole), ("sheet.ods", zip) })
        {
            await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload { Name = file, MimeType = "application/octet-stream", Buffer = bytes });
            await Expect(problem.Locator("h3")).ToHaveTextAsync($"{file} was not accepted");
            await Expect(problem).ToContainTextAsync("This is a spreadsheet workbook, not a CSV file");
            await Expect(problem).ToContainTextAsync("CSV UTF-8 (Comma delimited) (*.csv)");
            await Expect(problem).ToContainTextAsync("Text CSV (.csv)");
            await Expect(problem).ToBeFocusedAsync();
        }
        await AssertBelowDropZoneAsync(page, problem);
        await ScreenshotAsync(page, "batch-workbook");
        Assert.Equal(0, posts);
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task A_job_waiting_to_retry_failed_chunks_says_so_and_when()
    {
        // 6,000 chunks scored one at a time: the last is far off when the test makes it wait for a retry.
        var id = await SubmitNamedAsync("retrying.csv", JobApi.Csv(JobApi.Flights(600_000, seed: 4)));
        var running = await browser.Api.WaitForStatusAsync(id, "running", JobDeadline);
        var stall = browser.Factory.Services.GetRequiredService<IOptions<JobOptions>>().Value.StallTimeout;
        // The last chunk failed an attempt and waits for the next, 45 s from now (as JobLifecycle.ReleaseAsync leaves it).
        var last = running.GetProperty("chunkCount").GetInt32() - 1;
        var due = DateTime.UtcNow.AddSeconds(45);
        using (var scope = browser.Factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            Assert.Equal(1, await db.Chunks.Where(c => c.JobId == id && c.ChunkIndex == last && c.Status == ChunkStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Attempts, 1).SetProperty(c => c.Error, "Simulated: the database timed out").SetProperty(c => c.DispatchedAt, due - stall)));
        }

        var retry = (await browser.Api.GetJobAsync(id)).GetProperty("retry");
        Assert.Equal(1, retry.GetProperty("chunks").GetInt32());
        Assert.Equal(due, retry.GetProperty("nextAttemptAt").GetDateTime().ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.Equal("Simulated: the database timed out", retry.GetProperty("lastError").GetString());

        // A chunk stalled with a worker that stopped answering (lease expired) waits too; it is due later, so the first stays.
        using (var scope = browser.Factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            Assert.Equal(1, await db.Chunks.Where(c => c.JobId == id && c.ChunkIndex == last - 1 && c.Status == ChunkStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, ChunkStatus.Leased).SetProperty(c => c.LeaseExpiresAt, DateTime.UtcNow.AddSeconds(-1))
                    .SetProperty(c => c.DispatchedAt, due.AddSeconds(30) - stall)));
        }
        retry = (await browser.Api.GetJobAsync(id)).GetProperty("retry");
        Assert.Equal(2, retry.GetProperty("chunks").GetInt32());
        Assert.Equal(due, retry.GetProperty("nextAttemptAt").GetDateTime().ToUniversalTime(), TimeSpan.FromSeconds(1));
        Assert.Equal("Simulated: the database timed out", retry.GetProperty("lastError").GetString());

        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync($"/#jobs/{id}");
        var job = page.Locator($"#job-details article[data-job='{id}']");
        var notice = job.Locator(".retry-notice");
        await Expect(notice).ToContainTextAsync("Waiting to retry 2 chunks: next attempt at ");
        await Expect(notice).ToContainTextAsync(new Regex(@"\(in about [\d.]+ s\)"));
        await Expect(notice).ToContainTextAsync("Last error: Simulated: the database timed out");
        await Expect(job.Locator(".progress-text")).ToContainTextAsync("waiting for a retry");
        await Expect(job.Locator(".progress-text")).Not.ToContainTextAsync("left");
        await ScreenshotAsync(page, "job-waiting-for-retry");

        // Canceled while a worker still holds a chunk: the status says so (chunksInFlight) until the lease ends, and the
        // ETag changes when it does, so a conditional poll sees the job settle.
        var canceled = await (await browser.Api.PostAsync($"/v1/jobs/{id}/cancel", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("canceled", canceled.GetProperty("status").GetString());
        Assert.False(canceled.TryGetProperty("retry", out var none) && none.ValueKind != JsonValueKind.Null, "a canceled job waits for no retry");
        // The chunk the worker was scoring when the job was canceled settles first; then the test holds one of its own.
        await Poll.UntilAsync(() => browser.Api.GetJobAsync(id), j => j.GetProperty("chunksInFlight").GetInt32() == 0, JobDeadline, "the worker's chunk to settle");
        using (var scope = browser.Factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            await db.Chunks.Where(c => c.JobId == id && c.ChunkIndex == last)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, ChunkStatus.Leased).SetProperty(c => c.LeaseExpiresAt, DateTime.UtcNow.AddMinutes(5)));
        }
        var held = await browser.Api.GetAsync($"/v1/jobs/{id}");
        Assert.Equal(1, (await held.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("chunksInFlight").GetInt32());
        using (var scope = browser.Factory.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            await db.Chunks.Where(c => c.JobId == id && c.ChunkIndex == last)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, ChunkStatus.Pending).SetProperty(c => c.LeaseExpiresAt, (DateTime?)null));
        }
        var conditional = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{id}");
        conditional.Headers.IfNoneMatch.Add(held.Headers.ETag!);
        var settled = await browser.Api.SendAsync(conditional);
        Assert.Equal(System.Net.HttpStatusCode.OK, settled.StatusCode);
        Assert.Equal(0, (await settled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("chunksInFlight").GetInt32());
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task The_jobs_tab_shows_names_filters_by_status_searches_by_name_and_pages()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var ids = new List<Guid>();
        for (var i = 1; i <= 12; i++)
            ids.Add(await SubmitNamedAsync($"batch-{tag}-{i:00}.csv", JobApi.Csv(JobApi.Flights(20, seed: i))));
        var march = await SubmitNamedAsync($"march-{tag}.csv", JobApi.Csv(JobApi.Flights(20, seed: 99)));
        foreach (var id in ids.Append(march)) await browser.Api.WaitForStatusAsync(id, "succeeded", JobDeadline);

        await using var watched = await browser.OpenAsync();
        var page = watched.Page;
        await page.GotoAsync("/#jobs");
        await Expect(page).ToHaveTitleAsync("Jobs · FlightDelay");
        var rows = page.Locator("#jobs-table tbody tr");
        // Typed and paged at once (the search still waits for the typing pause): the page shown is the search's second,
        // and the pending search does not draw its first page over it when the pause ends.
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Older jobs" })).ToBeVisibleAsync();
        await page.GetByLabel("Search by name").FillAsync(tag);
        await page.GetByRole(AriaRole.Button, new() { Name = "Older jobs" }).ClickAsync();
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 11–13");
        await page.Locator("#jobs-older").EvaluateAsync("() => new Promise(r => setTimeout(r, 600))"); // past the 300 ms typing pause
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 11–13");
        await page.GetByRole(AriaRole.Button, new() { Name = "Newer jobs" }).ClickAsync();
        // Newest first, ten a page: the march job and batch 12 to 4.
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 1–10");
        await Expect(rows).ToHaveCountAsync(10);
        await Expect(rows.Locator("td.job-cell a")).ToHaveTextAsync([$"march-{tag}.csv", .. Enumerable.Range(4, 9).Reverse().Select(i => $"batch-{tag}-{i:00}.csv")]);
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 1–10");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Newer jobs" })).ToBeHiddenAsync();
        await AssertAccessibleNamesStartWithTheirTextAsync(page);
        await ScreenshotAsync(page, "jobs-search");

        await page.GetByRole(AriaRole.Button, new() { Name = "Older jobs" }).ClickAsync();
        await Expect(rows.Locator("td.job-cell a")).ToHaveTextAsync(Enumerable.Range(1, 3).Reverse().Select(i => $"batch-{tag}-{i:00}.csv").ToArray());
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 11–13");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Older jobs" })).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Newer jobs" })).ToBeFocusedAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Newer jobs" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(10);

        // A refresh of the first page still in flight when the person pages on answers last: it must not draw.
        var late = new TaskCompletionSource();
        await page.RouteAsync("**/v1/jobs?*", async route =>
        {
            if (!route.Request.Url.Contains("offset=0", StringComparison.Ordinal)) { await route.ContinueAsync(); return; }
            var response = await route.FetchAsync();
            await Task.Delay(1_500); // held back on purpose: the answer must arrive after the next page's
            await route.FulfillAsync(new() { Response = response });
            late.TrySetResult();
        });
        await page.Locator("#jobs-refresh").ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Older jobs" }).ClickAsync();
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 11–13");
        await late.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await page.Locator("#jobs-older").EvaluateAsync("() => new Promise(r => setTimeout(r, 0))");
        await Expect(page.Locator("#jobs-page")).ToHaveTextAsync("Jobs 11–13");
        await page.UnrouteAllAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Newer jobs" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(10);

        await page.GetByLabel("Search by name").FillAsync($"MARCH-{tag}");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.GetByRole(AriaRole.Link, new() { Name = $"march-{tag}.csv", Exact = true })).ToBeVisibleAsync();
        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await Expect(rows).ToHaveCountAsync(0);
        await Expect(page.Locator("#jobs-empty")).ToHaveTextAsync("No jobs match this search or status.");
        await page.GetByLabel("Status").SelectOptionAsync("succeeded");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First).ToHaveAttributeAsync("data-status", "succeeded");

        // One h1 on each tab (and on a job's page), and a title of its own.
        foreach (var (hash, title) in new[] { ("#predict", "Predict a delay"), ("#batch", "Score a file"), ("#jobs", "Jobs"), ("#model", "The model"), ($"#jobs/{march}", $"march-{tag}.csv · Jobs") })
        {
            await page.GotoAsync("/" + hash);
            await Expect(page).ToHaveTitleAsync($"{title} · FlightDelay");
            await Expect(page.Locator("h1:visible")).ToHaveCountAsync(1);
            await AssertAccessibleNamesStartWithTheirTextAsync(page);
        }
        watched.AssertNoErrors();
    }

    [Fact]
    public async Task On_a_phone_the_new_job_sits_under_the_drop_zone_jobs_are_cards_and_chart_text_stays_readable()
    {
        await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true });
        var page = watched.Page;
        await page.GotoAsync("/#batch");
        var name = $"phone-{Guid.NewGuid():N}"[..14] + ".csv";
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload
        {
            Name = name, MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(2_000, seed: 6))),
        });
        var job = page.Locator("#current-job article.job");
        await Expect(job.Locator("h3")).ToBeFocusedAsync();
        await AssertBelowDropZoneAsync(page, job);
        await Expect(job).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = (float)JobDeadline.TotalMilliseconds });
        await AssertFitsThePhoneAsync(page);
        await AssertReadableAsync(page);
        await ScreenshotAsync(page, "batch-phone-after");

        await job.GetByRole(AriaRole.Link, new() { Name = "Details and charts" }).ClickAsync();
        await Expect(page.Locator("#job-histogram svg rect.bar")).ToHaveCountAsync(10);
        await Expect(page.Locator("#job-airlines svg rect.bar").First).ToBeVisibleAsync();
        await AssertChartTextAtLeastAsync(page, 11);
        await AssertFitsThePhoneAsync(page);
        await ScreenshotAsync(page, "job-charts-phone");

        await page.GotoAsync("/#jobs");
        var row = page.Locator("#jobs-table tbody tr").First;
        await Expect(row).ToBeVisibleAsync();
        // Polled: the list redraws while other jobs run, which may replace the row between two reads.
        await Expect(row).ToHaveCSSAsync("display", "block");
        await AssertFitsThePhoneAsync(page);
        await ScreenshotAsync(page, "jobs-phone");

        await page.GotoAsync("/#model");
        await Expect(page.Locator("#reliability-chart svg")).ToBeVisibleAsync();
        await AssertChartTextAtLeastAsync(page, 11);
        await AssertFitsThePhoneAsync(page);

        await page.GotoAsync("/");
        await page.GetByRole(AriaRole.Button, new() { Name = "Predict" }).ClickAsync();
        await Expect(page.Locator("#month-strip svg rect.bar")).ToHaveCountAsync(12);
        await AssertChartTextAtLeastAsync(page, 11);
        await AssertFitsThePhoneAsync(page);
        watched.AssertNoErrors();
    }

    private static int Count(List<DateTime> list)
    {
        lock (list) return list.Count;
    }

    private async Task<Guid> SubmitNamedAsync(string name, string csv)
    {
        var response = await browser.Api.PostAsync($"/v1/jobs?name={Uri.EscapeDataString(name)}", new StringContent(csv, Encoding.UTF8, "text/csv"));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    /// <summary>The element is right under the drop zone: below it, and above the "What to upload" card.</summary>
    private static async Task AssertBelowDropZoneAsync(IPage page, ILocator element)
    {
        var zone = (await page.Locator("#dropzone").BoundingBoxAsync())!;
        var box = (await element.BoundingBoxAsync())!;
        var formats = (await page.Locator(".formats").BoundingBoxAsync())!;
        Assert.True(box.Y >= zone.Y + zone.Height, $"{box.Y} is above the drop zone's bottom {zone.Y + zone.Height}");
        Assert.True(box.Y - (zone.Y + zone.Height) < 200, $"{box.Y - (zone.Y + zone.Height)} px under the drop zone");
        // One column (a phone): the formats card comes after it; two columns: beside it.
        Assert.True(formats.X > box.X + box.Width - 1 || formats.Y >= box.Y + box.Height, "the formats card is between the drop zone and the message");
    }
}
