using System.Net;
using System.Net.Sockets;

namespace FlightDelay.Processing.Callbacks;

/// <summary>Resolves a callback host's name to addresses; replaceable in tests (a resolver that lies, as DNS rebinding does).</summary>
public interface ICallbackResolver
{
    /// <summary>The addresses <paramref name="host"/> resolves to now.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The system resolver.</summary>
public sealed class DnsCallbackResolver : ICallbackResolver
{
    /// <inheritdoc />
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken) => Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>
/// Which addresses a callback may connect to, checked at connect time on the very address the socket connects to (so a
/// name that resolved to a public address at submission and to an inside one now, DNS rebinding, is refused). Loopback,
/// private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unique-local (fd00:ec2::254), IPv4-mapped,
/// NAT64 and 6to4 (which can carry any IPv4 address), multicast and reserved ranges are refused unless a configured
/// network (<see cref="CallbackOptions.AllowedNetworks"/>) includes the address.
/// </summary>
public static class CallbackAddresses
{
    private static readonly (IPNetwork Network, string Name)[] Refused =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "this-network"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "carrier-grade NAT"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local (cloud metadata)"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.0.0.0/24"), "IETF protocol assignments"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("198.18.0.0/15"), "benchmarking"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/96"), "unspecified, loopback or IPv4-compatible"),
        (IPNetwork.Parse("64:ff9b::/96"), "NAT64"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "NAT64"),
        (IPNetwork.Parse("2002::/16"), "6to4"),
        (IPNetwork.Parse("fc00::/7"), "unique-local (cloud metadata)"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    /// <summary>Null when a callback may connect to <paramref name="address"/>; otherwise the kind of range that refuses it.</summary>
    public static string? WhyRefused(IPAddress address, IReadOnlyCollection<IPNetwork> allowed)
    {
        if (allowed.Any(n => n.Contains(address)) || (address.IsIPv4MappedToIPv6 && allowed.Any(n => n.Contains(address.MapToIPv4()))))
            return null;
        // Refused whatever IPv4 address it carries: a mapped address reaches that address, and some stacks treat it oddly.
        if (address.IsIPv4MappedToIPv6) return "IPv4-mapped";
        foreach (var (network, name) in Refused)
        {
            if (network.Contains(address)) return name;
        }
        return null;
    }

    /// <summary>
    /// The callbacks' connection handler: no proxy (a proxy would connect on our behalf, unchecked), no redirects, no
    /// cookies, and a <see cref="SocketsHttpHandler.ConnectCallback"/> that resolves the host itself, drops the refused
    /// addresses and connects to a permitted one.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(ICallbackResolver resolver, IReadOnlyCollection<IPNetwork> allowed) => new()
    {
        // A redirect could lead anywhere, past the allow-list: a 3xx is an unsuccessful attempt, not followed.
        AllowAutoRedirect = false,
        UseCookies = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectCallback = (context, cancellationToken) => ConnectAsync(resolver, allowed, context.DnsEndPoint, cancellationToken),
    };

    private static async ValueTask<Stream> ConnectAsync(ICallbackResolver resolver, IReadOnlyCollection<IPNetwork> allowed, DnsEndPoint endpoint, CancellationToken cancellationToken)
    {
        var host = endpoint.Host.Trim('[', ']');
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await resolver.ResolveAsync(host, cancellationToken);
        var permitted = addresses.Where(a => WhyRefused(a, allowed) is null).ToList();
        if (permitted.Count == 0)
        {
            throw new HttpRequestException(HttpRequestError.ConnectionError,
                $"Callback host '{host}' resolves to no permitted address ({(addresses.Length == 0 ? "none" : string.Join(", ", addresses.Select(a => $"{a}: {WhyRefused(a, allowed)}")))}); "
                + "Callbacks:AllowedNetworks can permit an inside network.");
        }
        Exception? last = null;
        foreach (var address in permitted)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, endpoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                if (ex is OperationCanceledException) throw;
                last = ex;
            }
        }
        throw new HttpRequestException(HttpRequestError.ConnectionError, $"Could not connect to callback host '{host}' at {string.Join(", ", permitted)}.", last);
    }
}
