using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlightDelay.Tests.Faults;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// The published API started as an operator starts it, <c>dotnet /opt/…/FlightDelay.Api.dll</c> from another working
/// directory: the page's script and styles load (over HTTP, and in Chromium) and its appsettings.json is read; without
/// its web root it refuses to start and says why.
/// </summary>
public sealed class StartFromAnywhereTests : IAsyncLifetime
{
    private readonly string _published = Directory.CreateTempSubdirectory("flightdelay-published-").FullName;
    private readonly string _elsewhere = Directory.CreateTempSubdirectory("flightdelay-cwd-").FullName;

    public async Task InitializeAsync()
    {
        // The Release build the test run made, published as is (a copy, no second build).
        var (exit, output) = await RunAsync("dotnet", TestFiles.RepositoryRoot, TimeSpan.FromMinutes(3),
            "publish", Path.Combine(TestFiles.RepositoryRoot, "Api"), "-c", "Release", "--no-build", "--nologo", "-o", _published);
        Assert.True(exit == 0, $"dotnet publish failed: {output}");

        // A setting only the published appsettings.json has: if it is read, a request over it is refused with its number.
        var settings = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(_published, "appsettings.json"), System.Text.Encoding.UTF8),
            documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        settings["Predictions"]!["MaxFlightsPerRequest"] = 3;
        await File.WriteAllTextAsync(Path.Combine(_published, "appsettings.json"), settings.ToJsonString());
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_published, recursive: true);
        Directory.Delete(_elsewhere, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task The_published_api_started_from_another_directory_serves_its_page_assets_and_reads_its_settings()
    {
        await using var api = Start("published");
        using var client = new HttpClient { BaseAddress = new Uri(api.BaseAddress) };
        await Poll.UntilAsync(() => TryGetAsync(client, "/health/live"), status => status == HttpStatusCode.OK || api.HasExited, TimeSpan.FromSeconds(60),
            "the published API to answer /health/live");
        Assert.False(api.HasExited, $"the API exited: {ReadLog(api)}");

        var page = await client.GetStringAsync("/");
        var script = await client.GetAsync("/app.js");
        var styles = await client.GetAsync("/app.css");
        Assert.Contains("app.js", page);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, styles.StatusCode);
        Assert.Equal("text/css", styles.Content.Headers.ContentType!.MediaType);

        // In a browser: styles applied (the logo is icon-sized, not full-screen), the script running (tabs switch in
        // place, the Model tab draws its chart), and no request of the page failing.
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Browser.BrowserFixture.ChromiumPath, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
        var tab = await browser.NewPageAsync(new() { BaseURL = api.BaseAddress });
        var failed = new List<string>();
        tab.Response += (_, response) => { if (response.Status >= 400) failed.Add($"{response.Status} {response.Url}"); };
        tab.RequestFailed += (_, request) => failed.Add($"failed {request.Url}");
        await tab.GotoAsync("/");
        Assert.InRange((await tab.Locator("header .logo").BoundingBoxAsync())!.Height, 1, 64);
        await tab.GetByRole(Microsoft.Playwright.AriaRole.Link, new() { Name = "Model", Exact = true }).ClickAsync();
        await Microsoft.Playwright.Assertions.Expect(tab.Locator("#reliability-chart svg")).ToBeVisibleAsync();
        Assert.Empty(failed);

        var four = new { flights = Enumerable.Repeat(new { airline = "Iberia", flightType = "I", month = 3 }, 4) };
        var problem = await Problem.ReadAsync(await client.PostAsJsonAsync("/v1/predictions", four), HttpStatusCode.BadRequest);
        Assert.Contains("3", problem.Detail);
    }

    [Fact]
    public async Task Without_its_web_root_the_api_refuses_to_start_and_says_why()
    {
        Directory.Delete(Path.Combine(_published, "wwwroot"), recursive: true);

        await using var api = Start("no-web-root");
        var exit = await api.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(0, exit);
        Assert.Contains("wwwroot/app.js", ReadLog(api));
    }

    /// <summary><c>dotnet FlightDelay.Api.dll</c> from the published folder, with the working directory elsewhere (in Production).</summary>
    private ChildProcess Start(string name) =>
        ChildProcess.Start(Path.Combine(_published, "FlightDelay.Api.dll"),
            new Dictionary<string, string> { ["ConnectionStrings:Sqlite"] = $"Data Source={Path.Combine(_elsewhere, "jobs.db")}" }, name, workingDirectory: _elsewhere);

    private static string ReadLog(ChildProcess process)
    {
        using var reader = new StreamReader(new FileStream(process.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        return reader.ReadToEnd();
    }

    private static async Task<HttpStatusCode?> TryGetAsync(HttpClient client, string path)
    {
        try
        {
            return (await client.GetAsync(path)).StatusCode;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string file, string directory, TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await output + await errors);
    }
}
