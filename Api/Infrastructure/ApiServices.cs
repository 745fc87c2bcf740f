using FlightDelay.Api.Jobs;
using FlightDelay.Api.OpenInference;
using FlightDelay.Api.Predictions;
using FlightDelay.Api.Security;
using FlightDelay.Processing.Jobs;
using FlightDelay.ServiceDefaults;
using Scalar.AspNetCore;

namespace FlightDelay.Api.Infrastructure;

public static class ApiServices
{
    /// <summary>The request-timeout policy for job uploads and result downloads.</summary>
    public const string LongTransfer = "long-transfer";

    /// <summary>Where the API listens when nothing says otherwise (<c>--urls</c>, <c>ASPNETCORE_URLS</c>, <c>ASPNETCORE_HTTP_PORTS</c>, <c>Kestrel:Endpoints</c>).</summary>
    public const string DefaultUrl = "http://localhost:5080";

    /// <summary>
    /// The host's options: the content root (appsettings.json, the web root) is the application's own folder when it
    /// runs as itself (<c>dotnet /any/path/FlightDelay.Api.dll</c> from any working directory, <c>dotnet run</c>, a
    /// container), not the current directory; <c>--contentRoot</c> or a host that loads it (the test server) decides otherwise.
    /// </summary>
    public static WebApplicationOptions HostOptions(string[] args)
    {
        var chosen = args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("ASPNETCORE_CONTENTROOT"))
            || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOTNET_CONTENTROOT"))
            || System.Reflection.Assembly.GetEntryAssembly() != typeof(ApiServices).Assembly;
        return new WebApplicationOptions { Args = args, ContentRootPath = chosen ? null : AppContext.BaseDirectory };
    }

    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        // The page's files: in a published app, wwwroot beside the program; in a build's output (any environment), where
        // the build's static web assets manifest says they are, the project's wwwroot.
        builder.WebHost.UseStaticWebAssets();
        // A default, not an override: a launch profile's applicationUrl would silently win over the user's own URLs.
        var configuration = builder.Configuration;
        if (string.IsNullOrEmpty(configuration["urls"]) && string.IsNullOrEmpty(configuration["http_ports"])
            && string.IsNullOrEmpty(configuration["https_ports"]) && !configuration.GetSection("Kestrel:Endpoints").Exists())
            builder.WebHost.UseUrls(DefaultUrl);
        builder.AddServiceDefaults("flightdelay-api");
        // Embedded (no RabbitMQ), the API is the whole system: it scores the chunks itself.
        var hosting = builder.AddJobStore();
        builder.AddJobChangeListener();
        if (hosting.ConsumersInApi) builder.AddJobConsumers();
        else builder.AddJobSubmission();
        // Distributed, the sweeps may run here too (Jobs:SweepsInApi), so retention and callbacks go on with no worker.
        if (hosting.SweepsInApi) builder.AddJobSweeps();
        builder.Services.AddScoped<JobIntake>();
        builder.Services.AddSingleton<BacklogSample>();
        // Live quality for /metrics: read from the database, so the API alone publishes it (every instance alike).
        builder.Services.AddHostedService<Processing.Models.QualityMonitor>();
        builder.Services.AddScoped<JobQueries>();
        builder.Services.AddSingleton<ShadowSampler>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ShadowSampler>());
        builder.Services.AddOptions<PredictionOptions>()
            .BindConfiguration(PredictionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddApiKeys();
        builder.Services.AddClientRateLimiting();
        // Uploads and downloads of millions of rows get Jobs:MaxUploadDuration (30 minutes); the sync routes need no timer
        // of their own (one per request costs the hot path): Kestrel's minimum data rate and header timeout drop stalled clients.
        builder.Services.AddRequestTimeouts();
        builder.Services.AddOptions<Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutOptions>()
            .Configure<Microsoft.Extensions.Options.IOptions<JobOptions>>((o, jobs) => o.AddPolicy(LongTransfer, new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutPolicy
            {
                Timeout = jobs.Value.MaxUploadDuration,
                TimeoutStatusCode = StatusCodes.Status408RequestTimeout,
            }));
        builder.Services.AddProblemDetails();
        // Under /v2 the protocol's {"error": "..."} instead of a problem, whoever writes the error.
        builder.Services.AddOpenInferenceErrors();
        builder.Services.AddHttpConventions();
        builder.Services.AddOpenApi(o => o.DocumentApiKeys().DescribeDocument());
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        return builder;
    }

    public static WebApplication UseApi(this WebApplication app)
    {
        // Without its files the page would load bare (404s for its script and styles): refuse to start instead.
        if (!app.Environment.WebRootFileProvider.GetFileInfo("app.js").Exists)
            throw new InvalidOperationException(
                $"The page's files (wwwroot/app.js) are not under the content root '{app.Environment.ContentRootPath}'. Run the published output " +
                "(dotnet publish Api), or the build's output with its staticwebassets manifest beside it; --contentRoot DIR points elsewhere.");
        // Client mistakes Kestrel detects itself (body too large, slow upload) keep their 4xx instead of becoming a 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            context.Response.Headers["Referrer-Policy"] = "no-referrer";
            return next(context);
        });
        app.UseHeadAsGet();
        app.UseRouting();
        // After routing: static files skip requests that matched an endpoint instead of looking on disk for each.
        app.UseStaticFiles();
        app.UseContentCodings();
        app.UseApiKeys();
        app.UseRateLimiter();
        app.UseRequestTimeouts();

        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("FlightDelay API"));
        app.MapServiceDefaults(protectMetrics: app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Security.ApiKeyOptions>>().Value.ProtectMetrics
            ? metrics => metrics.RequireApiKey()
            : null);
        return app;
    }

    /// <summary>The routes clients call: behind an API key when keys are configured, and the per-client rate limit.</summary>
    public static RouteGroupBuilder MapClientApi(this WebApplication app)
    {
        var group = app.MapGroup("").RequireApiKey();
        // Limits are read at start: with none configured (the default) the limiter stays off these routes, where
        // even its no-limit partition cost a tenth of a sync prediction's CPU.
        return app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RateLimitOptions>>().Value.RequestsPerSecond > 0
            ? group.RequireRateLimiting(ClientRateLimiting.Policy)
            : group;
    }
}
