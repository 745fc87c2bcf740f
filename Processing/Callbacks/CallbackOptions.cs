using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Callbacks;

/// <summary>Job completion callbacks: which hosts may be called, the signing key, retries. Bound from <c>Callbacks</c>.</summary>
public sealed class CallbackOptions
{
    public const string Section = "Callbacks";

    /// <summary>Longest callback URL a job may name.</summary>
    public const int MaxUrlLength = 2000;

    /// <summary>
    /// Hosts a callback may go to: exact names or IP addresses, or <c>*.example.com</c> for any subdomain of example.com
    /// (not example.com itself). Empty, the default, refuses every callback.
    /// </summary>
    public List<string> AllowedHosts { get; set; } = [];

    /// <summary>Allowed hosts that may also be called over plain http (loopback in development and tests); the rest need https.</summary>
    public List<string> HttpAllowedHosts { get; set; } = [];

    /// <summary>
    /// Networks (CIDR, <c>10.20.0.0/16</c>) a callback may connect to although they are inside ones (loopback, private,
    /// link-local, carrier-grade NAT, unique-local...), which are otherwise refused at connect time whatever the host's
    /// name (<see cref="CallbackAddresses"/>). Empty, the default, permits public addresses only.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary><see cref="AllowedNetworks"/> parsed (the validator refuses any that does not parse).</summary>
    public IReadOnlyCollection<System.Net.IPNetwork> AllowedNetworkRanges =>
        [.. AllowedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => System.Net.IPNetwork.TryParse(n.Trim(), out var network) ? network : default)
            .Where(n => n != default)];

    /// <summary>
    /// The current signing key: a Standard Webhooks secret (<c>whsec_</c> and the base64 of 24 to 64 random bytes), or any
    /// string of at least 32 characters (its UTF-8 bytes are the secret). Required where callbacks are delivered.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// Keys being rotated out: callbacks carry a signature with each of them too (<c>webhook-signature</c> lists one per
    /// key), so receivers can switch to the new key at their own pace. Remove them once every receiver has.
    /// </summary>
    public List<string> PreviousSigningKeys { get; set; } = [];

    /// <summary>Every key a callback is signed with: the current one first.</summary>
    public IEnumerable<string> SigningKeys =>
        new[] { SigningKey }.Concat(PreviousSigningKeys).Where(k => !string.IsNullOrWhiteSpace(k)).Select(k => k!);

    /// <summary>
    /// Attempts at one notification before it is marked failed. With the default backoff, 18 attempts spread over one to
    /// two days (as Svix's schedule does), so a receiver down for a day still gets the notification.
    /// </summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 18;

    /// <summary>
    /// Wait after the first failed attempt; doubled after each further one, with jitter (between half and all of it), up
    /// to <see cref="MaxBackoff"/>. A <c>Retry-After</c> on a <c>429</c> or <c>503</c> can lengthen a wait (up to a day).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromHours(10);

    /// <summary>How long one POST may take, connection included.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often each consumer host looks for due callbacks.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Callbacks one host delivers at once.</summary>
    [Range(1, 256)]
    public int MaxConcurrentDeliveries { get; set; } = 8;

    /// <summary>Where clients reach the API (<c>https://api.example.com</c>), to make the notification's links absolute; relative when unset.</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>Blank entries count as none, so an unset environment variable (<c>Callbacks__AllowedHosts__0=</c>) leaves callbacks off.</summary>
    public bool Enabled => AllowedHosts.Any(h => !string.IsNullOrWhiteSpace(h));
}

/// <summary>Host patterns well formed, backoff ordered, and, in a host that delivers callbacks, a signing key when they are enabled.</summary>
internal sealed class CallbackOptionsValidator(bool delivers) : IValidateOptions<CallbackOptions>
{
    public ValidateOptionsResult Validate(string? name, CallbackOptions options)
    {
        var errors = new List<string>();
        foreach (var (key, patterns) in new[] { ("AllowedHosts", options.AllowedHosts), ("HttpAllowedHosts", options.HttpAllowedHosts) })
        {
            foreach (var pattern in patterns.Where(p => !string.IsNullOrWhiteSpace(p)))
            {
                if (!CallbackUrls.IsValidPattern(pattern))
                    errors.Add($"Callbacks:{key} has '{pattern}'; use a host name, an IP address or *.domain (no scheme, port or path).");
            }
        }
        foreach (var network in options.AllowedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)))
        {
            if (!System.Net.IPNetwork.TryParse(network.Trim(), out _))
                errors.Add($"Callbacks:AllowedNetworks has '{network}'; use CIDR notation (10.20.0.0/16, fd00:1::/64) with no host bits set.");
        }
        if (options.MaxBackoff < options.InitialBackoff)
            errors.Add("Callbacks:MaxBackoff must not be shorter than Callbacks:InitialBackoff.");
        if (delivers && options.Enabled && string.IsNullOrWhiteSpace(options.SigningKey))
            errors.Add("Callbacks:AllowedHosts is set, so Callbacks:SigningKey is required: at least 32 characters (e.g. `openssl rand -hex 32`), or a Standard Webhooks secret (whsec_ and base64).");
        foreach (var key in options.SigningKeys)
        {
            if (WhyKeyRefused(key) is { } refused) errors.Add(refused);
        }
        if (options.PublicBaseUrl is { IsAbsoluteUri: false } or { Scheme: not ("http" or "https") })
            errors.Add("Callbacks:PublicBaseUrl must be an absolute http or https URL.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static string? WhyKeyRefused(string key)
    {
        // An example value (CHANGE-ME-000...) or a run of one character is long enough but no secret.
        if (FlightDelay.Processing.Hosting.Placeholders.Contains(key) || key.Distinct().Count() < 8)
            return "Callbacks:SigningKey and PreviousSigningKeys must be random (e.g. `openssl rand -hex 32`), not an example placeholder.";
        if (!key.StartsWith(CallbackSignature.SecretPrefix, StringComparison.Ordinal))
            return key.Length < 32 ? "Callbacks:SigningKey and PreviousSigningKeys need at least 32 characters (or the whsec_ form)." : null;
        try
        {
            return CallbackSignature.Secret(key).Length is >= 24 and <= 64 ? null : "A whsec_ signing key must hold 24 to 64 bytes.";
        }
        catch (FormatException)
        {
            return "A whsec_ signing key must be whsec_ followed by base64.";
        }
    }
}
