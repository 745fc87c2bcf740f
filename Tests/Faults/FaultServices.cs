using System.Diagnostics;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// PostgreSQL and RabbitMQ of the fault suite's own, on their own ports and state folder (scripts/local-services.sh),
/// so that stopping them mid-job disturbs no other test. Started once for the suite, stopped at its end.
/// </summary>
public class FaultServices : IAsyncLifetime
{
    private readonly Dictionary<string, string> _environment;

    public FaultServices()
        : this("flightdelay-faults", 56000)
    {
    }

    /// <summary>Services in <c>{tmp}/{folder}</c>, on ports <paramref name="portBase"/> + 432 (PostgreSQL), + 672 (AMQP) and nearby.</summary>
    protected FaultServices(string folder, int portBase)
    {
        string Port(int offset) => (portBase + offset).ToString(System.Globalization.CultureInfo.InvariantCulture);
        _environment = new()
        {
            ["FLIGHTDELAY_SERVICES_DIR"] = Path.Combine(Path.GetTempPath(), folder),
            ["FLIGHTDELAY_PG_PORT"] = Port(432),
            ["FLIGHTDELAY_AMQP_PORT"] = Port(672),
            ["FLIGHTDELAY_RABBIT_DIST_PORT"] = Port(673),
            ["FLIGHTDELAY_RABBIT_CTL_PORT"] = Port(674),
            ["FLIGHTDELAY_EPMD_PORT"] = Port(669),
            ["FLIGHTDELAY_SERVICES_TIMEOUT"] = "90",
        };
    }

    public string Postgres => $"Host=127.0.0.1;Port={_environment["FLIGHTDELAY_PG_PORT"]};Username=flightdelay;Password=flightdelay;Database=flightdelay";

    public string RabbitMq => $"amqp://guest:guest@127.0.0.1:{_environment["FLIGHTDELAY_AMQP_PORT"]}/";

    public static string Script
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var script = Path.Combine(dir.FullName, "scripts", "local-services.sh");
                if (File.Exists(script)) return script;
            }
            throw new InvalidOperationException("scripts/local-services.sh not found above the test folder.");
        }
    }

    public virtual Task InitializeAsync() => RunAsync("start");

    public Task DisposeAsync() => RunAsync("stop");

    /// <summary>Messages in a queue (ready and unacknowledged), from rabbitmqctl; -1 when the queue does not exist.</summary>
    public async Task<long> QueueDepthAsync(string queue)
    {
        var text = await RunAsync("ctl", "list_queues", "-q", "name", "messages");
        var fields = text.Split('\n').Select(l => l.Split('\t', ' ')).FirstOrDefault(f => f.Length >= 2 && f[0] == queue);
        return fields is null ? -1 : long.Parse(fields[^1], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs one local-services command (start, stop-rabbitmq, start-postgres, ctl ...); fails the test if it fails; returns its output.</summary>
    public async Task<string> RunAsync(params string[] command)
    {
        var info = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(Script);
        foreach (var arg in command) info.ArgumentList.Add(arg);
        foreach (var (key, value) in _environment) info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        // A restarted server ended this process's pooled connections: drop them rather than meet them as 57P01 later.
        if (command[0] != "ctl") Npgsql.NpgsqlConnection.ClearAllPools();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"local-services.sh {string.Join(' ', command)} failed ({process.ExitCode}): {await output}{await stdout}");
        return await stdout;
    }
}

/// <summary>The chaos soak's own PostgreSQL and RabbitMQ (ports 57xxx), which it restarts at random; nothing else uses them.</summary>
public sealed class ChaosServices() : FaultServices("flightdelay-chaos", 57000);
