using System.Diagnostics;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// A real process of ours (the API, a worker, the flightdelay tool) started from the test's output folder, killable
/// with SIGKILL, interruptible with SIGINT; its stdout and stderr are kept apart (and logged together).
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly System.Text.StringBuilder _stdout = new();
    private readonly System.Text.StringBuilder _stderr = new();

    private ChildProcess(Process process, StreamWriter log, int port)
    {
        _process = process;
        _log = log;
        Port = port;
    }

    public int Port { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string LogPath { get; private init; } = "";

    /// <summary>
    /// Starts <c>dotnet {dll}</c> (a file of the test's output folder, or a full path) with the given settings as
    /// environment variables, listening on a free loopback port, in <paramref name="workingDirectory"/> (default: the
    /// test's output folder), with <paramref name="args"/> after the dll.
    /// </summary>
    public static ChildProcess Start(string dll, IReadOnlyDictionary<string, string> settings, string name, string? workingDirectory = null,
        IReadOnlyList<string>? args = null)
    {
        var port = FreePort();
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args ?? []) info.ArgumentList.Add(arg);
        // Jobs go through the queue and the workers, as the tests of the pipeline mean to (settings may say otherwise).
        info.Environment["Jobs__InlineRows"] = "0";
        foreach (var (key, value) in settings) info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // Production refuses an API without keys unless it is open on purpose; these tests call it without one.
        info.Environment["ApiKeys__AllowAnonymous"] = "true";
        info.Environment["Logging__Console__FormatterName"] = "simple";

        var logPath = Path.Combine(Path.GetTempPath(), $"flightdelay-fault-{name}-{Guid.NewGuid():N}.log");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        var process = Process.Start(info)!;
        var child = new ChildProcess(process, log, port) { LogPath = logPath };
        process.OutputDataReceived += (_, e) => child.Received(e.Data, child._stdout);
        process.ErrorDataReceived += (_, e) => child.Received(e.Data, child._stderr);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    private void Received(string? line, System.Text.StringBuilder into)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.WriteLine(line);
            into.AppendLine(line);
        }
    }

    /// <summary>What the process wrote to stdout so far.</summary>
    public string StandardOutput
    {
        get { lock (_log) return _stdout.ToString(); }
    }

    /// <summary>What the process wrote to stderr so far.</summary>
    public string StandardError
    {
        get { lock (_log) return _stderr.ToString(); }
    }

    public int ExitCode => _process.ExitCode;

    public string BaseAddress => $"http://127.0.0.1:{Port}";

    /// <summary>SIGKILL: no shutdown, no lease released, no message acknowledged.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGINT, as Ctrl+C in a terminal sends it.</summary>
    public void Interrupt() => Signal(2);

    /// <summary>SIGTERM, as Kubernetes and Docker stop a container: the host's graceful shutdown.</summary>
    public void Terminate() => Signal(15);

    /// <summary>SIGSTOP: the process freezes holding whatever it holds (leases, unacknowledged messages, connections).</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT: a paused process wakes up and carries on as if no time had passed.</summary>
    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        if (!_process.HasExited && kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
#pragma warning disable CA5392, SYSLIB1054 // one libc call, in tests
    private static extern int kill(int pid, int sig);
#pragma warning restore CA5392, SYSLIB1054

    /// <summary>
    /// Polls <c>/health/ready</c> until it answers 200, within <paramref name="timeout"/>; fails at once, with the
    /// process's log, if the process exits meanwhile. A request that cannot connect or times out counts as not ready.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = new Uri(BaseAddress), Timeout = TimeSpan.FromSeconds(10) };
        await Support.Poll.UntilAsync(async () =>
        {
            if (HasExited) throw new InvalidOperationException($"process exited; log: {await File.ReadAllTextAsync(LogPath)}");
            try { return (await http.GetAsync("/health/ready")).StatusCode; }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { return System.Net.HttpStatusCode.ServiceUnavailable; }
        }, s => s == System.Net.HttpStatusCode.OK, timeout, $"{LogPath} to be ready");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        return _process.ExitCode;
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(18);
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        lock (_log) _log.Dispose();
    }
}
