using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FlightDelay.Tests.Faults;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Client;

/// <summary>
/// The published shape of things for the flightdelay tool: the real API as a process of its own (embedded default,
/// small chunks so a job takes a moment), and the tool started as <c>dotnet FlightDelay.Cli.dll</c>.
/// </summary>
public sealed class CliFixture : IAsyncLifetime
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), $"flightdelay-cli-{Guid.NewGuid():N}.db");

    public ChildProcess Api { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Folder { get; } = Directory.CreateTempSubdirectory("flightdelay-cli-").FullName;

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "FlightDelay.Cli.dll");

    public async Task InitializeAsync()
    {
        Api = ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>
        {
            ["ConnectionStrings:Sqlite"] = $"Data Source={_database}",
            ["Jobs:ChunkSize"] = "500",
            ["Jobs:ConcurrentChunks"] = "1",
            ["Logging:LogLevel:Default"] = "Warning",
        }, "cli-api");
        Http = new HttpClient { BaseAddress = new Uri(Api.BaseAddress) };
        await Poll.UntilAsync(async () =>
        {
            try
            {
                return (await Http.GetAsync("/health/ready")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, ready => ready, TimeSpan.FromSeconds(60), $"the API to start (log: {Api.LogPath})");
    }

    /// <summary>Runs the tool to its end without a terminal (stdout and stderr are pipes); returns the process for its output and exit code.</summary>
    public async Task<ChildProcess> RunAsync(params string[] args)
    {
        var cli = Start(args);
        await cli.WaitForExitAsync(JobApi.Deadline);
        return cli;
    }

    /// <summary>Starts the tool without a terminal, pointed at the API by FLIGHTDELAY_URL.</summary>
    public ChildProcess Start(params string[] args) =>
        ChildProcess.Start(CliDll, new Dictionary<string, string> { ["FLIGHTDELAY_URL"] = Api.BaseAddress }, "cli", Folder, args);

    /// <summary>A CSV of named flights in the fixture's folder.</summary>
    public async Task<string> CsvAsync(string name, int rows)
    {
        var path = Path.Combine(Folder, name);
        await File.WriteAllTextAsync(path, JobApi.Csv(JobApi.Flights(rows)));
        return path;
    }

    public async Task<JsonElement> JobAsync(Guid id) => await Http.GetFromJsonAsync<JsonElement>($"/v1/jobs/{id}");

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Api.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_database) + "*")) File.Delete(file);
        Directory.Delete(Folder, recursive: true);
    }
}

/// <summary>A tmux session: a real pseudo-terminal to run the tool in, type into and read the screen of.</summary>
public sealed class Tmux : IDisposable
{
    private readonly string _name = $"fd-{Guid.NewGuid():N}"[..12];

    public Tmux(string command, int width = 150, int height = 20) =>
        Run("new-session", "-d", "-s", _name, "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), command);

    /// <summary>The screen (and scrollback) as text; with <paramref name="escapes"/>, with its colour and style sequences.</summary>
    public string Screen(bool escapes = false) => escapes
        ? Run("capture-pane", "-t", _name, "-p", "-e", "-S", "-100")
        : Run("capture-pane", "-t", _name, "-p", "-S", "-100");

    public void Keys(params string[] keys) => Run(["send-keys", "-t", _name, .. keys]);

    public Task<string> UntilAsync(Func<string, bool> done, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(() => Task.FromResult(Screen()), done, timeout ?? JobApi.Deadline, what);

    private static string Run(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var tmux = Process.Start(info)!;
        var output = tmux.StandardOutput.ReadToEnd();
        var error = tmux.StandardError.ReadToEnd();
        tmux.WaitForExit();
        return tmux.ExitCode == 0 ? output : throw new InvalidOperationException($"tmux {string.Join(' ', args)}: {error}");
    }

    public void Dispose()
    {
        try
        {
            Run("kill-session", "-t", _name);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
