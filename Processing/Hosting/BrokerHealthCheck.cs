using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlightDelay.Processing.Hosting;

/// <summary>
/// Asks RabbitMQ itself: opens a connection (TLS for <c>amqps://</c>, port 5671 unless the URI names one, the server's
/// certificate checked against the host name as the bus does) and sends the AMQP 0-9-1 protocol header, healthy when
/// the broker answers with a Connection.Start frame. MassTransit's own bus check stays healthy in a host that only
/// sends (the API has no receive endpoints), so readiness needs this to report a broker that is down. With cluster
/// nodes it asks them all at once and is healthy when any answers, as the bus fails over to any of them: one node down
/// must not take every API and worker out of readiness.
/// </summary>
/// <param name="broker">The <c>amqp://</c> or <c>amqps://</c> URI of <c>ConnectionStrings:RabbitMq</c>.</param>
/// <param name="clusterNodes">
/// Further nodes, <c>host</c> or <c>host:port</c> (<c>Jobs:BrokerNodes</c>), spoken to as <paramref name="broker"/> is
/// (same scheme; <see cref="Port"/> when no port is named).
/// </param>
public sealed class BrokerHealthCheck(Uri broker, IEnumerable<string>? clusterNodes = null) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = "AMQP"u8.ToArray().Concat(new byte[] { 0, 0, 9, 1 }).ToArray();

    /// <summary>Whether the URI asks for TLS.</summary>
    public bool UsesTls => broker.Scheme == "amqps";

    /// <summary>The port the check connects to: the URI's, else 5671 for <c>amqps</c> and 5672 for <c>amqp</c>.</summary>
    public int Port => PortOf(broker);

    /// <summary>Every node asked, as (host, port): the URI's first, then the cluster nodes in order.</summary>
    public IReadOnlyList<(string Host, int Port)> Nodes { get; } =
    [
        (broker.DnsSafeHost, PortOf(broker)),
        .. (clusterNodes ?? []).Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => ParseNode(n, broker)),
    ];

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        var failures = new List<string>();
        await foreach (var probe in Task.WhenEach(Nodes.Select(n => ProbeAsync(n.Host, n.Port, timeout.Token))))
        {
            var (healthy, description) = await probe;
            if (healthy)
            {
                // The slower probes stop here; what failed so far is told, a node down being worth seeing.
                await timeout.CancelAsync();
                return HealthCheckResult.Healthy(string.Join("; ", failures.Prepend(description)));
            }
            failures.Add(description);
        }
        return HealthCheckResult.Unhealthy(string.Join("; ", failures));
    }

    private async Task<(bool Healthy, string Description)> ProbeAsync(string host, int port, CancellationToken cancellationToken)
    {
        var where = $"{broker.Scheme}://{host}:{port}";
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, cancellationToken);
            Stream stream = client.GetStream();
            if (UsesTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = host }, cancellationToken);
            }
            await using (stream)
            {
                await stream.WriteAsync(ProtocolHeader, cancellationToken);
                var frame = new byte[7];
                await stream.ReadExactlyAsync(frame, cancellationToken);
                // Frame type 1 (method) on channel 0: Connection.Start.
                return frame[0] == 1 && frame[1] == 0 && frame[2] == 0
                    ? (true, $"RabbitMQ answers at {where}")
                    : (false, $"{where} does not speak AMQP 0-9-1");
            }
        }
        catch (AuthenticationException ex)
        {
            return (false, $"TLS with RabbitMQ at {where} failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return (false, $"RabbitMQ at {where} does not answer: {ex.Message}");
        }
    }

    /// <summary><c>host</c> or <c>host:port</c> (<c>[v6]:port</c> too); the URI's default port when none is named.</summary>
    private static (string Host, int Port) ParseNode(string node, Uri broker)
    {
        if (!Uri.TryCreate($"tcp://{node.Trim()}", UriKind.Absolute, out var parsed) || parsed.PathAndQuery != "/" || parsed.UserInfo.Length > 0)
            throw new FormatException($"Jobs:BrokerNodes entry '{node}' is not host or host:port.");
        return (parsed.DnsSafeHost, parsed.Port > 0 ? parsed.Port : PortOf(broker));
    }

    private static int PortOf(Uri uri) => uri.IsDefaultPort || uri.Port <= 0 ? (uri.Scheme == "amqps" ? 5671 : 5672) : uri.Port;
}
