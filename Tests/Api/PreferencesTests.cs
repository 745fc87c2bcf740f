using FlightDelay.Api.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace FlightDelay.Tests.Api;

/// <summary>The <c>Prefer</c> header as RFC 7240 writes it: lists, parameters, quoted values, repeats, and what to ignore.</summary>
public sealed class PreferencesTests
{
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(new[] { "wait=5" }, 5)]
    [InlineData(new[] { "WAIT = 7" }, 7)]
    [InlineData(new[] { "return=minimal, wait=\"9\"" }, 9)]
    [InlineData(new[] { "wait=10; foo=bar" }, 10)]
    [InlineData(new[] { "handling=lenient", "wait=3" }, 3)]
    [InlineData(new[] { "wait=3, wait=20" }, 3)] // the first instance counts
    [InlineData(new[] { "wait=3600" }, 30)] // cut to the maximum
    [InlineData(new[] { "wait=99999999999999999999" }, null)] // not a number this side of overflow: ignored
    [InlineData(new[] { "wait=-1" }, null)]
    [InlineData(new[] { "wait=0" }, null)]
    [InlineData(new[] { "wait=1.5" }, null)]
    [InlineData(new[] { "wait" }, null)]
    [InlineData(new[] { "wait=5, respond-async" }, null)] // the client asked not to wait
    [InlineData(new[] { "respond-async", "wait=5" }, null)]
    [InlineData(new string[0], null)]
    public void Wait_is_the_first_wait_in_seconds_cut_to_the_maximum(string[] headers, int? seconds)
    {
        var request = new DefaultHttpContext().Request;
        request.Headers["Prefer"] = headers;
        Assert.Equal(seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), Preferences.Wait(request, Max));
    }
}
