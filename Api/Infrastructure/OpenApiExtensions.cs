using Microsoft.OpenApi;

namespace FlightDelay.Api.Infrastructure;

internal static class OpenApiExtensions
{
    /// <summary>
    /// Documents a JSON request body read by the handler itself. Unlike <c>Accepts&lt;T&gt;</c> this adds no
    /// content-type matcher, so a wrong Content-Type reaches the handler and gets a problem body that says what to send.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, string contentType = "application/json") =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType> { [contentType] = new() { Schema = schema } },
            };
        });
}
