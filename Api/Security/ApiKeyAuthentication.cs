using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using FlightDelay.Api.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Security;

/// <summary>
/// Authenticates the <c>X-Api-Key</c> header against the configured hashes. The presented key is hashed once and
/// compared with every configured hash in constant time, so neither timing nor early exit tells which key was close.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<ApiKeyOptions> keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var configured = keys.CurrentValue;
        if (!configured.Enabled || !Request.Headers.TryGetValue(ApiKeyOptions.Header, out var presented) || presented.Count != 1)
            return Task.FromResult(AuthenticateResult.NoResult());

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented.ToString()), hash);
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        string? match = null;
        foreach (var key in configured.Keys)
        {
            if (Convert.FromHexString(key.Hash, expected, out _, out _) == System.Buffers.OperationStatus.Done
                && CryptographicOperations.FixedTimeEquals(hash, expected))
                match ??= key.Id;
        }
        if (match is null)
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, match)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{ApiKeyOptions.Header}\"";
        await Problems.Status(StatusCodes.Status401Unauthorized, "An API key is required.",
                Request.Headers.ContainsKey(ApiKeyOptions.Header)
                    ? $"The key in the {ApiKeyOptions.Header} header is not valid."
                    : $"Send a valid API key in the {ApiKeyOptions.Header} header.")
            .ExecuteAsync(Context);
    }
}

public static class ApiKeySecurity
{
    /// <summary>The policy on every API route: a valid key when keys are configured, nothing otherwise.</summary>
    public const string Policy = "ApiKey";

    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Keys.All(k => System.ComponentModel.DataAnnotations.Validator.TryValidateObject(k, new(k), null, true)),
                "Every ApiKeys:Keys entry needs an Id (letters, digits, . _ -) and a 64-hex-digit SHA-256 Hash.")
            .Validate(o => o.Keys.Select(k => k.Id).Distinct().Count() == o.Keys.Count, "ApiKeys:Keys ids must be unique.")
            .ValidateOnStart();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAssertion(context =>
        {
            var http = context.Resource as HttpContext;
            var keys = http?.RequestServices.GetRequiredService<IOptionsMonitor<ApiKeyOptions>>().CurrentValue;
            return keys is null || !keys.Enabled || context.User.Identity?.IsAuthenticated == true;
        }));
        return services;
    }
}
