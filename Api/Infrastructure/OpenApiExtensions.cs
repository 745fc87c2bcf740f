using Microsoft.OpenApi;

namespace FlightDelay.Api.Infrastructure;

internal static class OpenApiExtensions
{
    /// <summary>
    /// Documents a request body read by the handler itself, of shape <typeparamref name="T"/> in each of
    /// <paramref name="contentTypes"/> (<c>application/json</c> when none). Unlike <c>Accepts&lt;T&gt;</c> this adds no
    /// content-type matcher, so a wrong Content-Type reaches the handler and gets a problem body that says what to send.
    /// </summary>
    public static RouteHandlerBuilder DocumentsBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = (contentTypes.Length == 0 ? ["application/json"] : contentTypes).ToDictionary(type => type, _ => new OpenApiMediaType { Schema = schema }),
            };
        });
}
