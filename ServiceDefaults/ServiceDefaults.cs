using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FlightDelay.ServiceDefaults;

/// <summary>
/// Telemetry and health endpoints shared by the Api and Worker hosts. Modules register their own meters and trace
/// sources (<c>ConfigureOpenTelemetryMeterProvider</c>, <c>ConfigureOpenTelemetryTracerProvider</c>) where they register
/// their services; this adds what every host has: ASP.NET Core's and the runtime's.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>
    /// OpenTelemetry metrics (scraped at <c>/metrics</c>, and sent over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is
    /// configured). Traces are recorded only when they have somewhere to go, that OTLP endpoint: a span per request
    /// cost a sixth of a sync prediction's CPU, for nothing when no collector reads it. <c>OTEL_TRACES_SAMPLER</c> and
    /// <c>OTEL_TRACES_SAMPLER_ARG</c> pick the sampler (for example <c>parentbased_traceidratio</c> and <c>0.1</c>).
    /// </summary>
    public static IHostApplicationBuilder AddServiceDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithMetrics(m => m
                .AddAspNetCoreInstrumentation()
                .AddMeter("System.Runtime")
                .AddPrometheusExporter());
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.WithTracing(t => t
                    .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/health") && !ctx.Request.Path.StartsWithSegments("/metrics")))
                .UseOtlpExporter();
        }
        return builder;
    }

    /// <summary>The setting naming the management port: <c>/metrics</c> and <c>/health/ready</c> answer only there.</summary>
    public const string ManagementPortSetting = "Management:Port";

    /// <summary>
    /// <c>/health/live</c> (the process answers), <c>/health/ready</c> (model and dependencies answer), and
    /// <c>/metrics</c>, with <paramref name="protectMetrics"/> applied to it when given (the API puts it behind a key).
    /// With <c>Management:Port</c> set (and Kestrel listening on it too, e.g. <c>ASPNETCORE_HTTP_PORTS=8080;9090</c>),
    /// <c>/metrics</c> and <c>/health/ready</c> (whose body names internal hosts) answer only on that port, which the
    /// Service behind the public edge does not expose; <c>/health/live</c> answers on every port.
    /// </summary>
    public static IEndpointRouteBuilder MapServiceDefaults(this IEndpointRouteBuilder app, Action<IEndpointConventionBuilder>? protectMetrics = null)
    {
        var managementPort = app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue<int?>(ManagementPortSetting);
        void Management(IEndpointConventionBuilder endpoint)
        {
            if (managementPort is { } port) endpoint.RequireHost($"*:{port}");
        }

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth });
        Management(app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteHealth }));
        var metrics = app.MapPrometheusScrapingEndpoint("/metrics");
        Management(metrics);
        protectMetrics?.Invoke(metrics);
        return app;
    }

    /// <summary>
    /// <c>probe URL</c>: GETs the URL and returns 0 on a 2xx answer, 1 otherwise. The container health check of images
    /// without a shell or curl (the chiseled .NET runtime): <c>dotnet FlightDelay.Api.dll probe http://127.0.0.1:8080/health/live</c>.
    /// </summary>
    public static async Task<int> ProbeAsync(string url)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await client.GetAsync(url);
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or InvalidOperationException or UriFormatException)
        {
            Console.Error.WriteLine($"{url}: {ex.Message}");
            return 1;
        }
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return JsonSerializer.SerializeAsync(context.Response.Body, new HealthBody(
            report.Status.ToString(),
            report.Entries.ToDictionary(e => e.Key, e => new HealthEntry(e.Value.Status.ToString(), e.Value.Description ?? e.Value.Exception?.Message))),
            HostingJsonContext.Default.HealthBody);
    }
}

internal sealed record HealthBody(string Status, Dictionary<string, HealthEntry> Checks);

internal sealed record HealthEntry(string Status, string? Description);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[System.Text.Json.Serialization.JsonSerializable(typeof(HealthBody))]
internal sealed partial class HostingJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
