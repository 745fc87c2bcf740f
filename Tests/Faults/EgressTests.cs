using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FlightDelay.Tests.Jobs;
using FlightDelay.Tests.Support;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// No egress an operator did not configure: the API and a worker, as real processes, run a job with a callback while the
/// test watches every TCP socket each process owns (<c>/proc/PID/fd</c> joined with <c>/proc/net/tcp</c>) and offers them a
/// proxy (<c>HTTP_PROXY</c>) that records whoever uses it. Only the database, the broker and the callback receiver may be
/// connected to.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class EgressTests(ChaosServices services) : IClassFixture<ChaosServices>
{
    [Fact]
    public void MassTransit_usage_telemetry_is_off()
    {
        using var factory = new ApiFactory();
        Assert.False(factory.Services.GetRequiredService<IOptions<UsageTelemetryOptions>>().Value.Enabled);
    }

    [Fact]
    public async Task The_hosts_connect_only_to_the_database_the_broker_and_the_callback_receiver()
    {
        using var trap = new TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        var proxied = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await trap.AcceptTcpClientAsync();
                Interlocked.Increment(ref proxied);
            }
        });
        var proxy = $"http://127.0.0.1:{((IPEndPoint)trap.LocalEndpoint).Port}";
        await using var receiver = await CallbackReceiver.StartAsync();
        var (database, connectionString) = await TestDatabases.CreateAsync(services.Postgres, "fd_egress");
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = services.RabbitMq,
            ["Jobs:QueueName"] = $"score-chunk-{database}",
            ["Jobs:ChunkSize"] = "1000",
            ["HTTP_PROXY"] = proxy,
            ["HTTPS_PROXY"] = proxy,
            ["ALL_PROXY"] = proxy,
        };
        foreach (var (key, value) in CallbackReceiver.Settings()) settings[key] = value!;
        var allowed = new HashSet<int> { Port(services.Postgres), new Uri(services.RabbitMq).Port, new Uri(receiver.Url).Port };

        await using var api = ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>(settings) { ["Database:MigrateOnStart"] = "true" }, "egress-api");
        await using var worker = ChildProcess.Start("FlightDelay.Worker.dll", settings, "egress-worker");
        var seen = new ConcurrentDictionary<string, byte>();
        using var watching = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!watching.IsCancellationRequested)
            {
                foreach (var (name, process) in new[] { ("api", api), ("worker", worker) })
                    foreach (var remote in RemoteEndpoints(process.Id)) seen.TryAdd($"{name} -> {remote}", 0);
                await Task.Delay(20);
            }
        });
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(api.BaseAddress) };
            await api.WaitReadyAsync(TimeSpan.FromMinutes(2));
            var id = await http.SubmitAsync(JobApi.Csv(JobApi.Flights(3000)), callbackUrl: receiver.Url);
            await http.WaitForCallbackAsync(id, "delivered");
        }
        finally
        {
            await watching.CancelAsync();
            await watcher;
            await TestDatabases.DropAsync(services.Postgres, database);
        }

        Assert.Equal(0, proxied);
        var connections = seen.Keys.ToList();
        Assert.Contains(connections, c => c.StartsWith("worker -> ", StringComparison.Ordinal) && c.EndsWith($":{new Uri(services.RabbitMq).Port}", StringComparison.Ordinal));
        Assert.Contains(connections, c => c.StartsWith("worker -> ", StringComparison.Ordinal) && c.EndsWith($":{new Uri(receiver.Url).Port}", StringComparison.Ordinal));
        var others = connections.Where(c => !allowed.Contains(int.Parse(c[(c.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture))).ToList();
        Assert.True(others.Count == 0, $"unexpected outbound connections: {string.Join(", ", others)}");
    }

    private static int Port(string npgsql) => new Npgsql.NpgsqlConnectionStringBuilder(npgsql).Port;

    /// <summary>The remote ends (address:port) of the process's TCP sockets that are not listening and not accepted from a local listener of its own.</summary>
    private static List<string> RemoteEndpoints(int pid)
    {
        var inodes = new HashSet<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
                }
                catch (IOException) { }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return []; }

        var remotes = new List<string>();
        var listening = new HashSet<int>();
        var rows = new List<(int LocalPort, string Remote, int RemotePort)>();
        foreach (var table in new[] { $"/proc/{pid}/net/tcp", $"/proc/{pid}/net/tcp6" })
        {
            string[] lines;
            try { lines = File.ReadAllLines(table); }
            catch (IOException) { continue; }
            foreach (var line in lines.Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length < 10 || !inodes.Contains(f[9])) continue;
                var localPort = int.Parse(f[1][(f[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (f[3] == "0A") { listening.Add(localPort); continue; }
                var remotePort = int.Parse(f[2][(f[2].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                rows.Add((localPort, f[2][..f[2].IndexOf(':')], remotePort));
            }
        }
        // Connections accepted by the process's own HTTP listener (the test calling it) are inbound, not egress.
        foreach (var (localPort, remote, remotePort) in rows)
            if (!listening.Contains(localPort)) remotes.Add($"{remote}:{remotePort}");
        return remotes;
    }
}
