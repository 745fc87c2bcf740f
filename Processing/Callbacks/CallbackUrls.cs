namespace FlightDelay.Processing.Callbacks;

/// <summary>
/// Which callback URLs are acceptable. Checked when a job is submitted and again before every delivery, so a host
/// removed from the allow-list is not called any more: the allow-list is what keeps callbacks from becoming a way to
/// make the service send requests into its own network (SSRF).
/// </summary>
public static class CallbackUrls
{
    /// <summary>Null when <paramref name="url"/> may be called; otherwise why not, in words for the client.</summary>
    public static string? WhyRefused(string url, CallbackOptions options)
    {
        if (!options.Enabled)
            return "Callbacks are not enabled on this server (Callbacks:AllowedHosts is empty).";
        if (url.Length > CallbackOptions.MaxUrlLength)
            return $"The callback URL may be at most {CallbackOptions.MaxUrlLength} characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.IsFile || uri.IsUnc)
            return "The callback URL must be an absolute http(s) URL.";
        if (uri.Scheme is not ("https" or "http"))
            return $"The callback URL must use https, not '{uri.Scheme}'.";
        if (uri.UserInfo.Length > 0)
            return "The callback URL must not contain user information (user:password@).";
        if (uri.Fragment.Length > 0)
            return "The callback URL must not have a fragment (#...).";

        var host = uri.IdnHost;
        if (!Matches(host, options.AllowedHosts))
            return $"The callback host '{host}' is not allowed; the server's allow-list (Callbacks:AllowedHosts) does not include it.";
        if (uri.Scheme == "http" && !Matches(host, options.HttpAllowedHosts))
            return $"The callback URL must use https; plain http is allowed only for hosts configured as such (Callbacks:HttpAllowedHosts), and '{host}' is not one.";
        return null;
    }

    /// <summary>An exact host (case-insensitive), or <c>*.suffix</c> for any host below it.</summary>
    public static bool Matches(string host, IEnumerable<string> patterns)
    {
        // IPv6 in brackets or without; a trailing dot names the same host.
        host = host.Trim('[', ']').TrimEnd('.');
        foreach (var raw in patterns.Where(p => !string.IsNullOrWhiteSpace(p)))
        {
            var pattern = raw.Trim().Trim('[', ']').TrimEnd('.');
            if (pattern.StartsWith("*.", StringComparison.Ordinal)
                ? host.Length > pattern.Length - 1 && host.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
                : host.Equals(pattern, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    /// <summary>A host name, an IP address (IPv6 in brackets, as in URLs) or <c>*.</c> and a host name; nothing else.</summary>
    public static bool IsValidPattern(string pattern)
    {
        var host = pattern.Trim();
        if (host.StartsWith("*.", StringComparison.Ordinal)) host = host[2..];
        return host.Length > 0 && !host.Contains('*')
            && Uri.CheckHostName(host.Trim('[', ']')) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6;
    }
}
