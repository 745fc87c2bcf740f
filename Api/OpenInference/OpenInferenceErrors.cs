using Microsoft.AspNetCore.WebUtilities;

namespace FlightDelay.Api.OpenInference;

/// <summary>
/// Every failure under <c>/v2</c> in the protocol's words: "the HTTP body must contain the ... error response object",
/// <c>application/json</c> <c>{"error": "..."}</c>. The handlers write theirs directly; this covers the answers the
/// pipeline gives before or instead of a handler (a missing API key, the rate limit, an unsupported content coding, a
/// wrong method, a path the server does not serve, an unhandled exception), which would otherwise be RFC 9457 problems
/// that KServe and Triton clients cannot read. Routes outside <c>/v2</c> keep their problems.
/// </summary>
internal sealed class OpenInferenceErrorWriter : IProblemDetailsWriter
{
    public const string Prefix = "/v2";

    public bool CanWrite(ProblemDetailsContext context) => context.HttpContext.Request.Path.StartsWithSegments(Prefix);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var message = context.ProblemDetails.Detail ?? Describe(http, context.ProblemDetails.Title);
        return new ValueTask(http.Response.WriteAsJsonAsync(new ErrorResponse(message), OpenInferenceJsonContext.Default.ErrorResponse,
            "application/json", http.RequestAborted));
    }

    // The pipeline's own answers (status code pages, the exception handler) carry no detail: say what happened in terms
    // of the request, so the error member is never just a reason phrase.
    private static string Describe(HttpContext http, string? title)
    {
        var request = http.Request;
        var status = http.Response.StatusCode;
        return status switch
        {
            StatusCodes.Status404NotFound =>
                $"No {request.Method} {request.Path} here; the Open Inference Protocol routes are GET /v2, /v2/health/live, /v2/health/ready, " +
                $"/v2/models/{OpenInferenceEndpoints.ModelName}[/versions/<version>][/ready] and POST /v2/models/{OpenInferenceEndpoints.ModelName}[/versions/<version>]/infer.",
            StatusCodes.Status405MethodNotAllowed => http.Response.Headers.Allow is { Count: > 0 } allow
                ? $"{request.Method} is not allowed on {request.Path}; it answers {allow}."
                : $"{request.Method} is not allowed on {request.Path}.",
            _ => title ?? ReasonPhrases.GetReasonPhrase(status),
        };
    }
}

/// <summary>Registers the Open Inference Protocol's error shape for <c>/v2</c>.</summary>
public static class OpenInferenceServices
{
    /// <summary>
    /// Puts the <c>/v2</c> error writer ahead of the default problem writer (writers are asked in registration order, and
    /// the default one would also accept these requests).
    /// </summary>
    public static IServiceCollection AddOpenInferenceErrors(this IServiceCollection services)
    {
        if (!services.Any(d => d.ImplementationType == typeof(OpenInferenceErrorWriter)))
            services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, OpenInferenceErrorWriter>());
        return services;
    }
}
