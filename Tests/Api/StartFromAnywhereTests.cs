using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// The published API started as an operator starts it, <c>dotnet /opt/…/FlightDelay.Api.dll</c> from another working
/// directory: the page's script and styles load and its appsettings.json is read; without its web root it refuses to
/// start and says why.
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
        var port = FreePort();
        var (api, log) = Start(port);
        using var kill = new Finally(() => { if (!api.HasExited) api.Kill(entireProcessTree: true); });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await Poll.UntilAsync(() => TryGetAsync(client, "/health/live"), status => status == HttpStatusCode.OK || api.HasExited, TimeSpan.FromSeconds(60),
            "the published API to answer /health/live");
        Assert.False(api.HasExited, $"the API exited: {log}");

        var page = await client.GetStringAsync("/");
        var script = await client.GetAsync("/app.js");
        var styles = await client.GetAsync("/app.css");
        Assert.Contains("app.js", page);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, styles.StatusCode);
        Assert.Equal("text/css", styles.Content.Headers.ContentType!.MediaType);

        var four = new { flights = Enumerable.Repeat(new { airline = "Iberia", flightType = "I", month = 3 }, 4) };
        var problem = await Problem.ReadAsync(await client.PostAsJsonAsync("/v1/predictions", four), HttpStatusCode.BadRequest);
        Assert.Contains("3", problem.Detail);
    }

    [Fact]
    public async Task Without_its_web_root_the_api_refuses_to_start_and_says_why()
    {
        Directory.Delete(Path.Combine(_published, "wwwroot"), recursive: true);

        var (api, log) = Start(FreePort());
        using var kill = new Finally(() => { if (!api.HasExited) api.Kill(entireProcessTree: true); });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await api.WaitForExitAsync(timeout.Token);

        Assert.NotEqual(0, api.ExitCode);
        lock (log) Assert.Contains("wwwroot/app.js", log.ToString());
    }

    /// <summary><c>dotnet FlightDelay.Api.dll</c> from the published folder, with the working directory elsewhere.</summary>
    private (Process Process, System.Text.StringBuilder Log) Start(int port)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _elsewhere,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add(Path.Combine(_published, "FlightDelay.Api.dll"));
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ApiKeys__AllowAnonymous"] = "true";
        info.Environment["ConnectionStrings__Sqlite"] = $"Data Source={Path.Combine(_elsewhere, "jobs.db")}";
        var process = Process.Start(info)!;
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, log);
    }

    /// <summary>Runs an action when disposed: the started API is stopped however the test ends.</summary>
    private sealed class Finally(Action action) : IDisposable
    {
        public void Dispose() => action();
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

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
