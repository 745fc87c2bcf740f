using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using FlightDelay.Api.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.Extensions.Options;

namespace FlightDelay.Api.Security;

/// <summary>Endpoint metadata: the route needs a valid API key when keys are configured.</summary>
internal sealed class ApiKeyRequired;

/// <summary>
/// Checks the <c>X-Api-Key</c> header of routes marked <see cref="ApiKeyRequired"/> against the configured hashes.
/// The presented key is hashed once and compared with every configured hash in constant time, so neither timing nor
/// early exit tells which key was close. A small middleware rather than ASP.NET Core's authentication and
/// authorization stack: that stack cost a third of a sync prediction's CPU (handler per request, policy evaluation,
/// a second authentication for the policy's scheme), for one header check.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptionsMonitor<ApiKeyOptions> options)
{
    public const string Scheme = "ApiKey";
    private const int MaxKeyBytes = 512;

    private Table _table = Table.Empty;

    public Task InvokeAsync(HttpContext context)
    {
        var table = CurrentTable();
        if (table.Keys.Length == 0 || context.GetEndpoint()?.Metadata is not { } metadata
            || metadata.GetMetadata<ApiKeyRequired>() is null || metadata.GetMetadata<IAllowAnonymous>() is not null)
            return next(context);

        var presented = context.Request.Headers[ApiKeyOptions.Header];
        if (presented.Count == 0)
            return Challenge(context, $"Send a valid API key in the {ApiKeyOptions.Header} header.");
        if (presented.Count != 1 || table.Find(presented.ToString()) is not { } principal)
            return Challenge(context, $"The key in the {ApiKeyOptions.Header} header is not valid.");

        context.User = principal;
        return next(context);
    }

    // Rebuilt only when the configuration changes (keys rotate without a restart).
    private Table CurrentTable()
    {
        var current = options.CurrentValue;
        var table = _table;
        if (!ReferenceEquals(table.Source, current))
            _table = table = new Table(current);
        return table;
    }

    private static Task Challenge(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = $"{Scheme} header=\"{ApiKeyOptions.Header}\"";
        return Problems.Status(StatusCodes.Status401Unauthorized, "An API key is required.", detail).ExecuteAsync(context);
    }

    private sealed class Table
    {
        public static readonly Table Empty = new(null);

        public Table(ApiKeyOptions? source)
        {
            Source = source;
            Keys = source is null ? [] : [.. source.Keys.Select(k => (Convert.FromHexString(k.Hash),
                new ClaimsPrincipal(new ClaimsIdentity(
                    k.Admin ? [new Claim(ClaimTypes.Name, k.Id), new Claim(ClaimTypes.Role, ApiKeyEntry.AdminRole)] : [new Claim(ClaimTypes.Name, k.Id)], Scheme))))];
        }

        public ApiKeyOptions? Source { get; }

        public (byte[] Hash, ClaimsPrincipal Principal)[] Keys { get; }

        public ClaimsPrincipal? Find(string presented)
        {
            Span<byte> utf8 = stackalloc byte[MaxKeyBytes];
            if (!Encoding.UTF8.TryGetBytes(presented, utf8, out var length))
                return null;
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(utf8[..length], hash);

            ClaimsPrincipal? match = null;
            foreach (var (expected, principal) in Keys)
            {
                if (CryptographicOperations.FixedTimeEquals(hash, expected))
                    match ??= principal;
            }
            return match;
        }
    }
}

public static class ApiKeySecurity
{
    public static IServiceCollection AddApiKeys(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Keys.All(k => System.ComponentModel.DataAnnotations.Validator.TryValidateObject(k, new(k), null, true)),
                "Every ApiKeys:Keys entry needs an Id (letters, digits, . _ -) and a 64-hex-digit SHA-256 Hash.")
            .Validate(o => o.Keys.Select(k => k.Id).Distinct().Count() == o.Keys.Count, "ApiKeys:Keys ids must be unique.")
            // The example overlay's all-zero hash (and any run of one digit) is a placeholder, not the hash of a key.
            .Validate(o => o.Keys.All(k => k.Hash.Distinct().Count() > 1),
                "An ApiKeys:Keys Hash is a placeholder (one repeated digit): put the hash scripts/api-key prints.")
            .Validate<IHostEnvironment>((o, env) => o.Enabled || o.AllowAnonymous || env.IsDevelopment() || env.IsEnvironment("Testing"),
                "No ApiKeys:Keys are configured: the API would be open to anyone. Add keys (scripts/api-key), or set ApiKeys:AllowAnonymous=true to serve an open API on purpose.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>Runs the key check; after routing (it reads the endpoint's metadata), before rate limiting (which counts per key).</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) => app.UseMiddleware<ApiKeyMiddleware>();

    /// <summary>
    /// With keys configured, the OpenAPI document declares the <c>X-Api-Key</c> scheme and requires it (with its 401)
    /// on every operation that needs a key, so generated clients send it.
    /// </summary>
    public static OpenApiOptions DocumentApiKeys(this OpenApiOptions options)
    {
        static bool Enabled(IServiceProvider services) => services.GetRequiredService<IOptions<ApiKeyOptions>>().Value.Enabled;
        options.AddDocumentTransformer((document, context, _) =>
        {
            if (!Enabled(context.ApplicationServices)) return Task.CompletedTask;
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyMiddleware.Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyOptions.Header,
                Description = "An API key issued by the operator (scripts/api-key makes one and its hash).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (!Enabled(context.ApplicationServices) || !metadata.OfType<ApiKeyRequired>().Any() || metadata.OfType<IAllowAnonymous>().Any())
                return Task.CompletedTask;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyMiddleware.Scheme, context.Document)] = [] });
            operation.Responses ??= [];
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid API key in the X-Api-Key header (a problem body; under /v2 the protocol's {\"error\": ...})." });
            return Task.CompletedTask;
        });
        return options;
    }

    /// <summary>
    /// The route changes what every client gets (the model registry's roles): with keys configured, only a key with
    /// <see cref="ApiKeyEntry.Admin"/> may call it, anyone else gets 403 with a problem. Without keys (development, or
    /// an API open on purpose) it is as open as every other route. Goes with <see cref="RequireApiKey{TBuilder}"/>.
    /// </summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (http.RequestServices.GetRequiredService<IOptionsMonitor<ApiKeyOptions>>().CurrentValue.Enabled && !http.User.IsInRole(ApiKeyEntry.AdminRole))
                return Problems.Status(StatusCodes.Status403Forbidden, "An admin API key is required.",
                    $"Only an API key configured with Admin=true may change model roles; '{http.User.Identity?.Name}' is not one.");
            return await next(context);
        });

    /// <summary>The route needs a valid key in <c>X-Api-Key</c> when keys are configured, and nothing otherwise.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ApiKeyRequired());
}
