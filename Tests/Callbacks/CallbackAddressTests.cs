using System.Net;
using FlightDelay.Processing.Callbacks;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Callbacks;

/// <summary>
/// Callbacks cannot be turned against the inside: the address the socket connects to is checked at connect time, with a
/// resolver the test controls (a name that resolves to loopback, as a DNS rebinding attack makes it).
/// </summary>
public sealed class CallbackAddressTests
{
    private static readonly IPNetwork[] None = [];

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.5.6.7", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("0.0.0.0", "this-network")]
    [InlineData("::", "unspecified")]
    [InlineData("10.1.2.3", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("169.254.169.254", "cloud metadata")]
    [InlineData("::ffff:169.254.169.254", "IPv4-mapped")]
    [InlineData("::ffff:127.0.0.1", "IPv4-mapped")]
    [InlineData("::ffff:8.8.8.8", "IPv4-mapped")]
    [InlineData("fd00:ec2::254", "unique-local")]
    [InlineData("64:ff9b::a9fe:a9fe", "NAT64")]
    [InlineData("2002:a9fe:a9fe::1", "6to4")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("255.255.255.255", "reserved")]
    public void Inside_addresses_are_refused(string address, string kind)
    {
        var why = CallbackAddresses.WhyRefused(IPAddress.Parse(address), None);
        Assert.NotNull(why);
        Assert.Contains(kind, why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("93.184.215.14")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:4700:4700::1111")]
    public void Public_addresses_are_permitted(string address) =>
        Assert.Null(CallbackAddresses.WhyRefused(IPAddress.Parse(address), None));

    [Fact]
    public void A_configured_network_permits_its_addresses_and_no_others()
    {
        IPNetwork[] allowed = [IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("127.0.0.0/8")];
        Assert.Null(CallbackAddresses.WhyRefused(IPAddress.Parse("10.20.3.4"), allowed));
        Assert.Null(CallbackAddresses.WhyRefused(IPAddress.Parse("::ffff:127.0.0.1"), allowed));
        Assert.NotNull(CallbackAddresses.WhyRefused(IPAddress.Parse("10.21.0.1"), allowed));
        Assert.NotNull(CallbackAddresses.WhyRefused(IPAddress.Parse("169.254.169.254"), allowed));
    }

    [Fact]
    public async Task A_public_name_that_resolves_to_loopback_is_not_connected_to()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        var resolver = new FixedResolver(IPAddress.Loopback, IPAddress.Parse("169.254.169.254"));
        using var client = new HttpClient(CallbackAddresses.CreateHandler(resolver, None));

        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync($"http://hooks.example.com:{port}{CallbackReceiver.Path}", new StringContent("{}")));

        Assert.Contains("no permitted address", refused.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1: loopback", refused.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Received);
        Assert.Equal(["hooks.example.com"], resolver.Asked);
    }

    [Fact]
    public async Task An_address_literal_is_checked_as_well()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        using var client = new HttpClient(CallbackAddresses.CreateHandler(new FixedResolver(), None));

        await Assert.ThrowsAsync<HttpRequestException>(() => client.PostAsync(receiver.Url, new StringContent("{}")));
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task A_configured_network_is_connected_to_and_only_on_the_checked_address()
    {
        await using var receiver = await CallbackReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        // The name also resolves to a metadata address: it is dropped, the permitted one is the one connected to.
        var resolver = new FixedResolver(IPAddress.Parse("169.254.169.254"), IPAddress.Loopback);
        using var client = new HttpClient(CallbackAddresses.CreateHandler(resolver, [IPNetwork.Parse("127.0.0.0/8")]));

        using var response = await client.PostAsync($"http://hooks.example.com:{port}{CallbackReceiver.Path}", new StringContent("{}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(receiver.Received);
    }

    /// <summary>Answers every name with the same addresses, and remembers the names asked.</summary>
    private sealed class FixedResolver(params IPAddress[] addresses) : ICallbackResolver
    {
        public List<string> Asked { get; } = [];

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            lock (Asked) Asked.Add(host);
            return Task.FromResult(addresses);
        }
    }
}
