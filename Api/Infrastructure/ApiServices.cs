using FlightDelay.Api.Jobs;
using FlightDelay.Api.Predictions;
using FlightDelay.Processing.Hosting;
using FlightDelay.Processing.Jobs;
using Scalar.AspNetCore;

namespace FlightDelay.Api.Infrastructure;

public static class ApiServices
{
    public static WebApplicationBuilder AddApi(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults("flightdelay-api");
        // Without RabbitMQ the API is the whole system (the embedded default): it hosts the consumers itself.
        builder.AddJobPipeline(hostConsumers: !builder.Configuration.UsesRabbitMq() || builder.Configuration.GetValue<bool>("Jobs:HostConsumersInApi"));
        builder.Services.AddScoped<JobIntake>();
        builder.Services.AddOptions<PredictionOptions>()
            .BindConfiguration(PredictionOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default));
        return builder;
    }

    public static WebApplication UseApi(this WebApplication app)
    {
        // Client mistakes Kestrel detects itself (body too large, slow upload) keep their 4xx instead of becoming a 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = ex => ex is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        app.UseStaticFiles();

        app.MapOpenApi();
        app.MapScalarApiReference("/docs", o => o.WithTitle("FlightDelay API"));
        app.MapServiceDefaults();
        return app;
    }
}
