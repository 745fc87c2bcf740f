using Microsoft.AspNetCore.Http.HttpResults;

namespace FlightDelay.Api.Infrastructure;

/// <summary>The RFC 9457 problem answers this API gives; one place so titles stay consistent.</summary>
internal static class Problems
{
    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is invalid.", extensions: extensions);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.");

    public static ProblemHttpResult TooLarge(long maxBytes) =>
        TypedResults.Problem($"The request body is larger than the limit of {maxBytes} bytes.",
            statusCode: StatusCodes.Status413PayloadTooLarge, title: "The request body is too large.");

    public static ProblemHttpResult UnsupportedMediaType(string? contentType, string accepted) =>
        TypedResults.Problem($"Content-Type '{contentType}' is not supported; send {accepted}.",
            statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type.");

    public static ProblemHttpResult Status(int statusCode, string title, string detail) =>
        TypedResults.Problem(detail, statusCode: statusCode, title: title);

    /// <summary>A 400 listing field errors under <c>errors</c>, keyed like <c>flights[3].airline</c>.</summary>
    public static ProblemHttpResult Validation(string detail, IEnumerable<KeyValuePair<string, string>> errors) =>
        BadRequest(detail, new Dictionary<string, object?>
        {
            ["errors"] = errors.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Select(e => e.Value).ToArray()),
        });
}
