using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FlightDelay.Processing.Hosting;
using FlightDelay.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace FlightDelay.Tests.Api;

/// <summary>
/// What a deployment relies on (docs/deploy.md): a broker check that speaks TLS for amqps, start-up refusals of an open
/// API and of example placeholders, management endpoints only on the management port, counters that exist at zero, a
/// shutdown timeout set from configuration.
/// </summary>
public sealed class DeploymentGuardTests
{
    // A Connection.Start frame's first bytes: method frame (1) on channel 0.
    private static readonly byte[] ConnectionStart = [1, 0, 0, 0, 0, 0, 4];

    [Fact]
    public async Task Broker_check_is_healthy_when_amqp_answers_connection_start()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            var header = new byte[8];
            await stream.ReadExactlyAsync(header);
            await stream.WriteAsync(ConnectionStart);
            return header;
        });

        var check = new BrokerHealthCheck(new Uri($"amqp://guest:guest@127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/"));
        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("AMQP\0\0\t\u0001"u8.ToArray(), await server);
    }

    [Fact]
    public async Task Broker_check_speaks_tls_for_amqps_and_checks_the_certificate()
    {
        using var certificate = SelfSigned("broker.internal");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(certificate);
            }
            catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
            {
                // Under TLS 1.2 the client's refusal of the certificate ends the handshake here.
            }
        });

        var check = new BrokerHealthCheck(new Uri($"amqps://guest:guest@127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/"));
        var result = await check.CheckHealthAsync(new HealthCheckContext());

        await server;
        // Only a client that spoke TLS gets as far as refusing the self-signed certificate.
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("TLS with RabbitMQ", result.Description);
    }

    [Fact]
    public void Broker_check_uses_5671_for_amqps_and_5672_for_amqp()
    {
        Assert.Equal(5671, new BrokerHealthCheck(new Uri("amqps://u:p@rabbitmq.example.internal/")).Port);
        Assert.Equal(5672, new BrokerHealthCheck(new Uri("amqp://u:p@rabbitmq.example.internal/")).Port);
        Assert.Equal(6000, new BrokerHealthCheck(new Uri("amqps://u:p@rabbitmq.example.internal:6000/")).Port);
    }

    [Fact]
    public async Task Broker_check_is_healthy_while_any_cluster_node_answers_and_reads_their_ports()
    {
        // The URI's node refuses (a port nobody listens on); the second cluster node answers.
        using var closed = new TcpListener(IPAddress.Loopback, 0);
        closed.Start();
        var down = ((IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var up = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            var stream = client.GetStream();
            await stream.ReadExactlyAsync(new byte[8]);
            await stream.WriteAsync(ConnectionStart);
        });

        var check = new BrokerHealthCheck(new Uri($"amqp://guest:guest@127.0.0.1:{down}/"), [$"127.0.0.1:{down}", "", $"127.0.0.1:{up}"]);
        var result = await check.CheckHealthAsync(new HealthCheckContext());
        await server;

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Contains($"answers at amqp://127.0.0.1:{up}", result.Description);
        Assert.Equal([("node-b", 5672), ("node-c", 6000), ("::1", 5673)],
            new BrokerHealthCheck(new Uri("amqp://u:p@node-a/"), ["node-b", "node-c:6000", "[::1]:5673"]).Nodes.Skip(1));
        Assert.Equal(HealthStatus.Unhealthy, (await new BrokerHealthCheck(new Uri($"amqp://u:p@127.0.0.1:{down}/"), [$"127.0.0.1:{down}"])
            .CheckHealthAsync(new HealthCheckContext())).Status);
    }

    [Fact]
    public async Task Production_without_api_keys_refuses_to_start()
    {
        await using var factory = new ApiFactory();
        await using var production = factory.WithWebHostBuilder(b => b.UseEnvironment("Production"));

        var error = Assert.Throws<OptionsValidationException>(() => production.CreateClient());
        Assert.Contains("ApiKeys:AllowAnonymous", error.Message);
    }

    [Fact]
    public async Task Production_serves_an_open_api_when_told_to()
    {
        await using var factory = new ApiFactory().With("ApiKeys:AllowAnonymous", "true");
        await using var production = factory.WithWebHostBuilder(b => b.UseEnvironment("Production"));

        Assert.Equal(HttpStatusCode.OK, (await production.CreateClient().GetAsync("/v1/model")).StatusCode);
    }

    [Fact]
    public async Task A_placeholder_api_key_hash_stops_the_start()
    {
        await using var factory = new ApiFactory().With("ApiKeys:Keys:0:Id", "example-client").With("ApiKeys:Keys:0:Hash", new string('0', 64));

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("placeholder", error.Message);
    }

    [Theory]
    [InlineData("CHANGE-ME-0000000000000000000000000000000000000000000000000000000000")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_placeholder_signing_key_stops_the_start(string key)
    {
        await using var factory = new ApiFactory().With("Callbacks:AllowedHosts:0", "hooks.example.com").With("Callbacks:SigningKey", key);

        var error = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());
        Assert.Contains("placeholder", error.Message);
    }

    [Fact]
    public async Task A_placeholder_in_a_connection_string_stops_the_start()
    {
        await using var factory = new ApiFactory()
            .With("ConnectionStrings:Postgres", "Host=postgres.example.internal;Username=flightdelay;Password=CHANGE-ME;Database=flightdelay");

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("ConnectionStrings:Postgres still holds the example placeholder", error.GetBaseException().Message);
    }

    [Fact]
    public async Task With_a_management_port_metrics_and_readiness_answer_only_there()
    {
        await using var factory = new ApiFactory().With("Management:Port", "9090");
        var client = factory.CreateClient();

        async Task<HttpStatusCode> Get(string path, string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host;
            return (await client.SendAsync(request)).StatusCode;
        }

        Assert.Equal(HttpStatusCode.NotFound, await Get("/metrics", "localhost"));
        Assert.Equal(HttpStatusCode.NotFound, await Get("/health/ready", "localhost:8080"));
        Assert.Equal(HttpStatusCode.OK, await Get("/metrics", "localhost:9090"));
        Assert.Equal(HttpStatusCode.OK, await Get("/health/ready", "localhost:9090"));
        Assert.Equal(HttpStatusCode.OK, await Get("/health/live", "localhost:8080"));
        Assert.Equal(HttpStatusCode.OK, await Get("/v2/health/ready", "localhost:8080"));
    }

    [Fact]
    public async Task Failure_counters_exist_at_zero_before_the_first_failure()
    {
        await using var factory = new ApiFactory();

        var metrics = await factory.CreateClient().GetStringAsync("/metrics");

        foreach (var (name, label) in new[]
                 {
                     ("flightdelay_job_chunks_total{", "outcome=\"failed\""),
                     ("flightdelay_callback_deliveries_total{", "outcome=\"failed\""),
                     ("flightdelay_jobs_finished_total{", "status=\"failed\""),
                 })
        {
            var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal));
            Assert.True(line is not null, $"{name}{label} is missing from /metrics");
            Assert.Matches(@"\} 0( \d+)?$", line);
        }
    }

    [Fact]
    public async Task Shutdown_timeout_comes_from_configuration()
    {
        await using var factory = new ApiFactory().With("shutdownTimeoutSeconds", "1830");
        _ = factory.CreateClient();

        Assert.Equal(TimeSpan.FromSeconds(1830), factory.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
    }

    [Fact]
    public async Task The_example_route_reaches_every_client_route_and_no_management_endpoint()
    {
        await using var factory = new ApiFactory();
        _ = factory.CreateClient();
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !Directory.Exists(Path.Combine(root.FullName, "deploy", "overlays", "example")))
            root = root.Parent;
        Assert.NotNull(root);
        var route = File.ReadAllText(Path.Combine(root.FullName, "deploy", "overlays", "example", "httproute.yaml"));
        var paths = System.Text.RegularExpressions.Regex.Matches(route, @"type: (?<type>Exact|PathPrefix)\s+value: (?<value>\S+)")
            .Select(m => (Exact: m.Groups["type"].Value == "Exact", Value: m.Groups["value"].Value)).ToList();
        bool Routed(string path) => paths.Any(p => p.Exact ? path == p.Value : path == p.Value || path.StartsWith(p.Value.TrimEnd('/') + "/", StringComparison.Ordinal));

        var endpoints = factory.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Where(p => p is not ("/metrics" or "/health/live" or "/health/ready"))
            .Select(p => p.Split('{')[0].TrimEnd('/') is var fixedPart && fixedPart.Length > 0 ? fixedPart : "/");
        var files = Directory.GetFiles(Path.Combine(root.FullName, "Api", "wwwroot")).Select(f => "/" + Path.GetFileName(f));

        foreach (var path in endpoints.Concat(files).Distinct())
            Assert.True(Routed(path), $"{path} is not routed by deploy/overlays/example/httproute.yaml");
        Assert.False(Routed("/metrics"));
        Assert.False(Routed("/health/ready"));
    }

    private static X509Certificate2 SelfSigned(string host)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        // An ephemeral key cannot serve TLS on Linux; a PFX round trip gives the certificate a usable private key.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }
}
