using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace FlightDelay.Processing.Hosting;

/// <summary>
/// Asks RabbitMQ itself: opens a connection and sends the AMQP 0-9-1 protocol header, healthy when the broker
/// answers with a Connection.Start frame. MassTransit's own bus check stays healthy in a host that only sends
/// (the API has no receive endpoints), so readiness needs this to report a broker that is down.
/// </summary>
public sealed class BrokerHealthCheck(Uri broker) : IHealthCheck
{
    private static readonly byte[] ProtocolHeader = "AMQP"u8.ToArray().Concat(new byte[] { 0, 0, 9, 1 }).ToArray();

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        var port = broker.IsDefaultPort || broker.Port <= 0 ? 5672 : broker.Port;
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(broker.Host, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(ProtocolHeader, timeout.Token);
            var frame = new byte[7];
            await stream.ReadExactlyAsync(frame, timeout.Token);
            // Frame type 1 (method) on channel 0: Connection.Start.
            return frame[0] == 1 && frame[1] == 0 && frame[2] == 0
                ? HealthCheckResult.Healthy($"RabbitMQ answers at {broker.Host}:{port}")
                : HealthCheckResult.Unhealthy($"{broker.Host}:{port} does not speak AMQP 0-9-1");
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"RabbitMQ at {broker.Host}:{port} does not answer: {ex.Message}");
        }
    }
}
