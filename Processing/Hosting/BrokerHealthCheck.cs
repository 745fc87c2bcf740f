using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlightDelay.Processing.Hosting;

/// <summary>
/// Asks RabbitMQ itself: opens a connection (TLS for <c>amqps://</c>, port 5671 unless the URI names one, the server's
/// certificate checked against the host name as the bus does) and sends the AMQP 0-9-1 protocol header, healthy when
/// the broker answers with a Connection.Start frame. MassTransit's own bus check stays healthy in a host that only
/// sends (the API has no receive endpoints), so readiness needs this to report a broker that is down.
/// </summary>
/// <param name="broker">The <c>amqp://</c> or <c>amqps://</c> URI of <c>ConnectionStrings:RabbitMq</c>.</param>
public sealed class BrokerHealthCheck(Uri broker) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = "AMQP"u8.ToArray().Concat(new byte[] { 0, 0, 9, 1 }).ToArray();

    /// <summary>Whether the URI asks for TLS.</summary>
    public bool UsesTls => broker.Scheme == "amqps";

    /// <summary>The port the check connects to: the URI's, else 5671 for <c>amqps</c> and 5672 for <c>amqp</c>.</summary>
    public int Port => broker.IsDefaultPort || broker.Port <= 0 ? (UsesTls ? 5671 : 5672) : broker.Port;

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        var where = $"{broker.Scheme}://{broker.Host}:{Port}";
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(broker.Host, Port, timeout.Token);
            Stream stream = client.GetStream();
            if (UsesTls)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = broker.Host }, timeout.Token);
            }
            await using (stream)
            {
                await stream.WriteAsync(ProtocolHeader, timeout.Token);
                var frame = new byte[7];
                await stream.ReadExactlyAsync(frame, timeout.Token);
                // Frame type 1 (method) on channel 0: Connection.Start.
                return frame[0] == 1 && frame[1] == 0 && frame[2] == 0
                    ? HealthCheckResult.Healthy($"RabbitMQ answers at {where}")
                    : HealthCheckResult.Unhealthy($"{where} does not speak AMQP 0-9-1");
            }
        }
        catch (AuthenticationException ex)
        {
            return HealthCheckResult.Unhealthy($"TLS with RabbitMQ at {where} failed: {ex.Message}");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ at {where} does not answer: {ex.Message}");
        }
    }
}
