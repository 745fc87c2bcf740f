using System.Net;
using FlightDelay.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace FlightDelay.Tests.Browser;

/// <summary>
/// The real API listening on a loopback port (Kestrel, the embedded default on its own SQLite file), and Debian's
/// Chromium driven by Playwright. A browser cannot reach the in-process test server, hence Kestrel. Small chunks,
/// scored one at a time, so that a job's progress can be watched and a big job is still running when canceled.
/// </summary>
public class BrowserFixture : IAsyncLifetime
{
    public BrowserFixture()
        : this(factory => factory)
    {
    }

    /// <summary>A fixture whose API has settings of its own (a test class that must not share the others' host).</summary>
    protected BrowserFixture(Func<ApiFactory, ApiFactory> configure) => Factory = configure(new ApiFactory()
        .With("Jobs:ChunkSize", "100")
        .With("Jobs:ConcurrentChunks", "1")
        // Small enough that a test can hand the page a bigger file (the page checks the size before uploading).
        .With("Jobs:MaxUploadBytes", "20000000"));

    /// <summary>Debian's package; Playwright's own browser download does not work on these machines.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? _playwright;

    public ApiFactory Factory { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary><c>TestResults/screenshots</c> at the repository's root (TestResults/ is ignored by git).</summary>
    public string Screenshots { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium package (scripts/test does).");

        Factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Api = new HttpClient { BaseAddress = BaseAddress };

        var contentRoot = Factory.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath;
        Screenshots = Environment.GetEnvironmentVariable("FLIGHTDELAY_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.GetFullPath(Path.Combine(contentRoot, "..", "TestResults", "screenshots"));
        Directory.CreateDirectory(Screenshots);

        // The whole suite runs in parallel on small machines: give the page time before an expectation fails.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    /// <summary>A fresh browser context (its own session storage) on the API, with a page that records what went wrong in it.</summary>
    public async Task<WatchedPage> OpenAsync(BrowserNewContextOptions? options = null)
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = BaseAddress.ToString();
        options.ViewportSize ??= new ViewportSize { Width = 1280, Height = 900 };
        options.AcceptDownloads = true;
        var context = await Browser.NewContextAsync(options);
        return new WatchedPage(context, await context.NewPageAsync());
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Api?.Dispose();
        await Factory.DisposeAsync();
    }
}

/// <summary>
/// A page whose script errors and console errors are collected: a CSP violation (an inline style, a script from
/// elsewhere) shows up as a console error, so tests can assert there were none.
/// </summary>
public sealed class WatchedPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    public WatchedPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            // Answers like 400 or 401 are logged by the browser as failed loads; they are what some tests provoke.
            if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal))
                lock (_errors) _errors.Add(message.Text);
        };
        page.PageError += (_, error) =>
        {
            lock (_errors) _errors.Add(error);
        };
    }

    public IPage Page { get; }

    public void AssertNoErrors()
    {
        lock (_errors) Assert.True(_errors.Count == 0, "Errors in the page:\n" + string.Join("\n", _errors));
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}
