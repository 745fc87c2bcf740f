using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Processing.Models;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static FlightDelay.Tests.Browser.PageChecks;
using static Microsoft.Playwright.Assertions;

namespace FlightDelay.Tests.Browser;

/// <summary>
/// A host of its own for the Model tab's registry side: these tests register a second version and change roles,
/// which the other browser tests (the shipped model as champion) must not see. The promotion gate has no tolerance,
/// so any lower test ROC AUC is refused.
/// </summary>
public sealed class ModelTabBrowserFixture() : BrowserFixture(factory => factory.With("Model:PromotionTolerance", "0"));

/// <summary>
/// The Model tab as whoever runs the model uses it (issue 14): the versions with their roles, a promotion the gate
/// refuses and one forced, an admin key asked for, a challenger compared with the champion after a job, and live
/// quality after an evaluation job, each figure checked against the API's.
/// </summary>
public sealed class ModelTabBrowserTests(ModelTabBrowserFixture browser) : IClassFixture<ModelTabBrowserFixture>
{
    private static readonly TimeSpan JobDeadline = TimeSpan.FromSeconds(120);
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private static readonly string Shipped = FlightModel.Load(TestFiles.ShippedModel).Version;

    [Fact]
    public async Task Versions_show_their_roles_and_a_promotion_below_the_champion_is_refused_then_forced()
    {
        var alternative = await RegisterAlternativeAsync();
        var aucs = (await ListAsync()).GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("version").GetString()!, i => i.GetProperty("card").GetProperty("metrics").GetProperty("rocAuc").GetDouble());
        Assert.NotEqual(aucs[Shipped], aucs[alternative]);
        var (higher, lower) = aucs[Shipped] > aucs[alternative] ? (Shipped, alternative) : (alternative, Shipped);
        await SetRolesAsync(champion: higher);
        try
        {
            await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
            var page = watched.Page;
            await page.GotoAsync("/#model");

            var table = page.Locator("#versions-table");
            await Expect(table.Locator("tbody tr")).ToHaveCountAsync(2);
            var higherRow = table.Locator($"tr[data-version='{higher}']");
            var lowerRow = table.Locator($"tr[data-version='{lower}']");
            await Expect(higherRow).ToHaveAttributeAsync("data-role", "champion");
            await Expect(higherRow.Locator(".badge")).ToHaveTextAsync("champion");
            await Expect(lowerRow).ToHaveAttributeAsync("data-role", "candidate");
            await Expect(lowerRow.Locator("td").Nth(3)).ToHaveTextAsync(Fixed(aucs[lower], 3));
            await Expect(higherRow.GetByRole(AriaRole.Button, new() { Name = "Promote" })).ToHaveCountAsync(0);
            await Expect(lowerRow.GetByRole(AriaRole.Button, new() { Name = $"Make challenger {lower}" })).ToBeVisibleAsync();
            await AssertReadableAsync(page);
            await AssertAccessibleNamesStartWithTheirTextAsync(page);
            await table.ScrollIntoViewIfNeededAsync();
            await ScreenshotAsync(page, "model-versions");

            // A key that may score but not promote: the service's 403, played by the router once.
            await page.RouteAsync("**/v1/models/*/promote**", route => route.FulfillAsync(new RouteFulfillOptions
            {
                Status = 403, ContentType = "application/problem+json",
                Body = """{"title":"Forbidden.","status":403,"detail":"Only an API key configured with Admin=true may change model roles."}""",
            }), new PageRouteOptions { Times = 1 });
            var promote = lowerRow.GetByRole(AriaRole.Button, new() { Name = $"Promote {lower}" });
            await promote.ClickAsync();
            var message = page.Locator("#versions-message [role=alert]");
            await Expect(message.Locator("h3")).ToHaveTextAsync("An admin API key is needed");
            await Expect(message).ToBeFocusedAsync();
            await Expect(message.GetByRole(AriaRole.Button, new() { Name = "Enter an admin key" })).ToBeVisibleAsync();
            Assert.Equal(higher, (await ListAsync()).GetProperty("champion").GetString());

            // The gate: below the champion's test ROC AUC, refused with both figures.
            await promote.ClickAsync();
            await Expect(message.Locator("h3")).ToHaveTextAsync($"{lower} was not promoted");
            await Expect(message.Locator(".gate-auc")).ToHaveTextAsync(Fixed(aucs[lower], 4));
            await Expect(message.Locator(".gate-champion-auc")).ToHaveTextAsync(Fixed(aucs[higher], 4));
            await Expect(message).ToContainTextAsync($"the champion {higher}'s");
            Assert.Equal(higher, (await ListAsync()).GetProperty("champion").GetString());
            await AssertReadableAsync(page);
            await ScreenshotAsync(page, "model-promote-refused");

            // Forced: the table and the served card's figures follow.
            await message.GetByRole(AriaRole.Button, new() { Name = "Promote anyway" }).ClickAsync();
            await Expect(lowerRow).ToHaveAttributeAsync("data-role", "champion");
            await Expect(higherRow).ToHaveAttributeAsync("data-role", "candidate");
            await Expect(page.Locator("#versions-status")).ToHaveTextAsync(new Regex($"^{lower} is now the champion"));
            await Expect(message).ToHaveCountAsync(0);
            Assert.Equal(lower, (await ListAsync()).GetProperty("champion").GetString());
            var served = await browser.Api.GetFromJsonAsync<JsonElement>("/v1/model");
            Assert.Equal(lower, served.GetProperty("version").GetString());
            await Expect(page.Locator("#model-summary .lead code")).ToHaveTextAsync(lower);
            await Expect(page.Locator("#model-summary .tiles .tile").First.Locator(".tile-value")).ToHaveTextAsync(Fixed(aucs[lower], 3));
            await Expect(page.Locator("#model-summary table.confusion")).ToContainTextAsync(
                served.GetProperty("metrics").GetProperty("confusionMatrix")[1][1].GetInt64().ToString("N0", Invariant));
            await Expect(page.Locator("#footer-model code")).ToHaveTextAsync(lower);
            await Expect(page.Locator("#roc-chart svg polyline.curve")).ToHaveCountAsync(1);
            await Expect(page.Locator("#reliability-chart svg")).ToBeVisibleAsync();
            await ScreenshotAsync(page, "model-promoted");

            // Back through the gate the other way: a higher test ROC AUC passes.
            await higherRow.GetByRole(AriaRole.Button, new() { Name = $"Promote {higher}" }).ClickAsync();
            await Expect(higherRow).ToHaveAttributeAsync("data-role", "champion");
            await Expect(page.Locator("#model-summary .lead code")).ToHaveTextAsync(higher);
            await Expect(message).ToHaveCountAsync(0);
            watched.AssertNoErrors();
        }
        finally
        {
            await SetRolesAsync(champion: Shipped);
        }
    }

    [Fact]
    public async Task A_challenger_is_compared_after_a_job_and_live_quality_after_an_evaluation_job_matches_the_api()
    {
        var alternative = await RegisterAlternativeAsync();
        await SetRolesAsync(champion: Shipped);
        try
        {
            await using var watched = await browser.OpenAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
            var page = watched.Page;
            await page.GotoAsync("/#model");

            // Nothing reported yet (this host's only jobs are this test's): the empty state says how to report outcomes.
            var empty = page.Locator("#quality-empty");
            await Expect(empty).ToContainTextAsync($"{Shipped}, the champion,");
            await Expect(empty).ToContainTextAsync("POST /v1/jobs/{id}/outcomes");
            await Expect(empty.GetByRole(AriaRole.Link, new() { Name = "Batch" })).ToBeVisibleAsync();
            await Expect(page.Locator("#no-challenger")).ToBeVisibleAsync();
            await page.Locator("#model-quality").ScrollIntoViewIfNeededAsync();
            await ScreenshotAsync(page, "model-quality-empty");

            var row = page.Locator($"#versions-table tr[data-version='{alternative}']");
            await row.GetByRole(AriaRole.Button, new() { Name = $"Make challenger {alternative}" }).ClickAsync();
            await Expect(row).ToHaveAttributeAsync("data-role", "challenger");
            await Expect(page.Locator("#comparison-empty")).ToBeVisibleAsync();
            Assert.Equal(alternative, (await ListAsync()).GetProperty("challenger").GetString());

            // An evaluation job uploaded from the page: its delayed column is stored as the rows' outcomes.
            var flights = JobApi.Flights(400, seed: 14);
            var csv = new StringBuilder("airline,flightType,month,delayed\n");
            for (var i = 0; i < flights.Length; i++)
                csv.Append(Invariant, $"{flights[i].Airline},{flights[i].FlightType},{flights[i].Month},{(i * 7 % 10 < 3 ? 1 : 0)}\n");
            await page.GotoAsync("/#batch");
            await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload { Name = "evaluation.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv.ToString()) });
            await Expect(page.Locator("#current-job article.job")).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = (float)JobDeadline.TotalMilliseconds });

            await page.GetByRole(AriaRole.Link, new() { Name = "Model", Exact = true }).ClickAsync();
            var quality = await browser.Api.GetFromJsonAsync<JsonElement>($"/v1/models/{Shipped}/quality?bucket=day");
            var live = quality.GetProperty("live");
            Assert.Equal(flights.Length, live.GetProperty("flights").GetInt64());
            var totals = page.Locator("#quality-totals");
            await Expect(Live(totals, "Flights with an outcome")).ToHaveTextAsync(flights.Length.ToString("N0", Invariant));
            await Expect(Live(totals, "Of them delayed")).ToHaveTextAsync(live.GetProperty("delayed").GetInt64().ToString("N0", Invariant));
            await Expect(Live(totals, "ROC AUC")).ToHaveTextAsync(Fixed(live.GetProperty("rocAuc").GetDouble(), 3));
            await Expect(Live(totals, "Recall")).ToHaveTextAsync(Pct(live.GetProperty("recall").GetDouble()));
            await Expect(Live(totals, "Precision")).ToHaveTextAsync(Pct(live.GetProperty("precision").GetDouble()));
            await Expect(totals.Locator("tr[data-figure='ROC AUC'] td.test")).ToHaveTextAsync(Fixed(quality.GetProperty("test").GetProperty("rocAuc").GetDouble(), 3));
            var matrix = live.GetProperty("confusionMatrix");
            await Expect(totals.Locator("table.confusion tbody td")).ToHaveTextAsync(
                new[] { matrix[0][0], matrix[0][1], matrix[1][0], matrix[1][1] }.Select(c => c.GetInt64().ToString("N0", Invariant)).ToArray());
            // One point per day with outcomes, the test figure as a dashed line (the legend's marks are in a group of their own).
            var chart = page.Locator("#quality-chart svg");
            await Expect(chart.Locator("> circle.dot.auc")).ToHaveCountAsync(quality.GetProperty("windows").GetArrayLength());
            await Expect(chart.Locator("> line.test-line.auc")).ToHaveCountAsync(1);
            await Expect(chart).ToHaveAttributeAsync("aria-label", new Regex(Regex.Escape($"ROC AUC {Fixed(live.GetProperty("rocAuc").GetDouble(), 3)}, Recall {Pct(live.GetProperty("recall").GetDouble())}, 400 flights")));

            // The challenger scored the same rows in the shadow: agreement, differences, and both sides' quality.
            var comparison = await browser.Api.GetFromJsonAsync<JsonElement>($"/v1/models/{alternative}/comparison");
            Assert.Equal(flights.Length, comparison.GetProperty("rows").GetInt64());
            var tiles = page.Locator("#comparison-tiles");
            await Expect(Tile(tiles, "Rows compared")).ToHaveTextAsync("400");
            await Expect(Tile(tiles, "Same flag")).ToHaveTextAsync(Pct(comparison.GetProperty("agreementRate").GetDouble()));
            await Expect(Tile(tiles, "Median |difference|")).ToHaveTextAsync(Fixed(comparison.GetProperty("medianAbsoluteDifference").GetDouble() * 100, 1) + " points");
            await Expect(Tile(tiles, "95th percentile |difference|")).ToHaveTextAsync(Fixed(comparison.GetProperty("p95AbsoluteDifference").GetDouble() * 100, 1) + " points");
            var mean = comparison.GetProperty("meanDifference").GetDouble();
            await Expect(page.Locator("#comparison-mean")).ToContainTextAsync($"{Fixed(Math.Abs(mean) * 100, 1)} points {(mean > 0 ? "higher" : "lower")}");
            var histogram = page.Locator("#comparison-histogram svg");
            await Expect(histogram.Locator("rect.bar")).ToHaveCountAsync(20);
            var bins = comparison.GetProperty("histogram").EnumerateArray().Select(b => b.GetInt64()).ToArray();
            await Expect(histogram).ToHaveAttributeAsync("aria-label", new Regex(Regex.Escape($"0 to 10 points {bins[10]:N0}")));
            var sides = page.Locator("#comparison-quality");
            await Expect(sides.Locator("tr[data-figure='ROC AUC'] td.served")).ToHaveTextAsync(Fixed(comparison.GetProperty("servedQuality").GetProperty("rocAuc").GetDouble(), 3));
            await Expect(sides.Locator("tr[data-figure='ROC AUC'] td.challenger")).ToHaveTextAsync(Fixed(comparison.GetProperty("challengerQuality").GetProperty("rocAuc").GetDouble(), 3));
            await Expect(sides.Locator("tr[data-figure='Recall'] td.challenger")).ToHaveTextAsync(Pct(comparison.GetProperty("challengerQuality").GetProperty("recall").GetDouble()));
            await AssertReadableAsync(page);
            await AssertAccessibleNamesStartWithTheirTextAsync(page);
            await page.Locator("#model-quality").ScrollIntoViewIfNeededAsync();
            await ScreenshotAsync(page, "model-quality-and-challenger");

            // A chosen version's live quality, from its row: the challenger served none of these rows.
            await row.GetByRole(AriaRole.Button, new() { Name = $"Live quality {alternative}" }).ClickAsync();
            await Expect(page.Locator("#quality-title")).ToBeFocusedAsync();
            await Expect(page.Locator("#quality-version")).ToHaveValueAsync(alternative);
            await Expect(page.Locator("#quality-empty")).ToContainTextAsync(alternative);
            await page.Locator("#quality-version").SelectOptionAsync(Shipped);
            await Expect(Live(totals, "Flights with an outcome")).ToHaveTextAsync("400");

            // On a phone: versions as cards, charts at the screen's width, nothing scrolls sideways.
            await page.SetViewportSizeAsync(390, 844);
            await Expect(row).ToHaveCSSAsync("display", "block");
            await Expect(page.Locator("#quality-chart svg")).ToHaveAttributeAsync("width", new Regex("^(2|3)\\d\\d$"));
            await AssertFitsThePhoneAsync(page);
            await AssertChartTextAtLeastAsync(page, 11);
            await AssertReadableAsync(page);
            await ScreenshotAsync(page, "model-phone");

            await row.GetByRole(AriaRole.Button, new() { Name = $"Retire {alternative}" }).ClickAsync();
            await Expect(row).ToHaveAttributeAsync("data-role", "candidate");
            await Expect(page.Locator("#no-challenger")).ToBeVisibleAsync();
            Assert.Equal(JsonValueKind.Null, (await ListAsync()).GetProperty("challenger").ValueKind);
            watched.AssertNoErrors();
        }
        finally
        {
            await SetRolesAsync(champion: Shipped);
        }
    }

    private static ILocator Live(ILocator totals, string figure) => totals.Locator($"tr[data-figure='{figure}'] td.live");

    private static ILocator Tile(ILocator tiles, string name) =>
        tiles.Locator(".tile").Filter(new() { Has = tiles.Page.Locator(".tile-name", new() { HasTextRegex = new Regex($"^{Regex.Escape(name)}$") }) }).Locator(".tile-value");

    private static string Fixed(double value, int digits) => FlightDelay.Api.Page.PageHtml.Fixed(value, digits);

    private static string Pct(double share) => Fixed(share * 100, 1) + "%";

    /// <summary>The second version, registered as Worker train would; registering it again changes nothing.</summary>
    private async Task<string> RegisterAlternativeAsync()
    {
        var model = AlternativeModel.Load();
        await browser.Factory.Services.GetRequiredService<ModelRegistry>().RegisterAsync(model, "train", CancellationToken.None);
        return model.Version;
    }

    /// <summary>Sets the roles through the API, whatever an earlier test left: this champion, no challenger.</summary>
    private async Task SetRolesAsync(string champion)
    {
        Assert.Equal(HttpStatusCode.OK, (await browser.Api.PostAsync($"/v1/models/{champion}/promote?force=true", null)).StatusCode);
        if ((await ListAsync()).GetProperty("challenger").GetString() is { } challenger)
            Assert.Equal(HttpStatusCode.OK, (await browser.Api.PostAsync($"/v1/models/{challenger}/retire", null)).StatusCode);
    }

    private async Task<JsonElement> ListAsync() => await browser.Api.GetFromJsonAsync<JsonElement>("/v1/models");

    private async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(browser.Screenshots, name + ".png"), FullPage = true });
}
