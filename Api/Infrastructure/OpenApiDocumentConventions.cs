using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace FlightDelay.Api.Infrastructure;

/// <summary>
/// What the generated OpenAPI document needs beyond the endpoints' own metadata for generated clients and linters
/// (<c>scripts/lint-openapi</c> runs Spectral's <c>oas</c> ruleset on it): the API's description and contact, every tag
/// described, a description on every operation and parameter, and server URLs in the canonical form. One place, so
/// a new route inherits it; an endpoint's own description always wins.
/// </summary>
internal static class OpenApiDocumentConventions
{
    private const string Description =
        "Predicts whether a flight departing Santiago (SCL) will be delayed by more than 15 minutes. Synchronous scoring " +
        "(/v1/predictions, the seed's /predict_api), batch jobs of thousands to millions of flights (/v1/jobs), the model " +
        "card (/v1/model) and the Open Inference Protocol (/v2, KServe V2 and Triton clients). Errors are RFC 9457 " +
        "problems, except under /v2, where they are the protocol's {\"error\": \"...\"}.";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Jobs"] = "Batch scoring: upload flights as CSV, JSON or JSON Lines, follow the job, read or download its results.",
        ["Model"] = "The model that scores: its version, algorithm, test metrics, features and accepted values.",
        ["Open Inference Protocol"] = "The Open Inference Protocol (KServe V2, Triton) REST API: health, metadata and inference for the model 'flight-delay'.",
        ["Predictions"] = "Synchronous scoring of one or many flights.",
    };

    // Parameters whose meaning is the same wherever they appear; an endpoint's own description wins.
    private static readonly Dictionary<(ParameterLocation?, string), string> ParameterDescriptions = new()
    {
        [(ParameterLocation.Path, "id")] = "The job's id, as POST /v1/jobs answered it.",
        [(ParameterLocation.Query, "status")] = "Only jobs in this status: queued, running, succeeded, failed or canceled.",
        [(ParameterLocation.Query, "offset")] = "How many items to skip (default 0).",
        [(ParameterLocation.Query, "limit")] = "The most items in one page (default and maximum depend on the route; a 400 says them).",
        [(ParameterLocation.Path, "model")] = "The model's name; this server serves 'flight-delay'.",
        [(ParameterLocation.Path, "version")] = "A model version, one of the model metadata's 'versions'.",
        [(ParameterLocation.Query, "after")] = "Results after this row number: 0 for the first page, then the previous page's last row.",
    };

    /// <summary>Adds the document- and operation-level conventions to the OpenAPI options.</summary>
    public static OpenApiOptions DescribeDocument(this OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "FlightDelay API";
            document.Info.Description = Description;
            document.Info.Contact = new OpenApiContact { Name = "FlightDelay maintainers (security reports: SECURITY.md)" };

            // The servers are where this document was served from; without the trailing slash, paths join as written.
            foreach (var server in document.Servers ?? [])
            {
                server.Url = server.Url?.TrimEnd('/');
                server.Description ??= "The server that served this document.";
            }
            if (document.Servers is { } servers)
                document.Servers = [.. servers.Where(s => !string.IsNullOrEmpty(s.Url))];

            // Every tag declared once with its description, in alphabetical order as the oas ruleset asks.
            var used = (document.Paths?.Values ?? Enumerable.Empty<IOpenApiPathItem>())
                .SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
                .SelectMany(o => o.Tags ?? Enumerable.Empty<OpenApiTagReference>()).Select(t => t.Name);
            var declared = (document.Tags ?? Enumerable.Empty<OpenApiTag>()).Select(t => t.Name);
            var names = declared.Concat(used).OfType<string>().Distinct().Order(StringComparer.Ordinal);
            document.Tags = new HashSet<OpenApiTag>(names.Select(name => new OpenApiTag
            {
                Name = name,
                // A new tag without one is left bare for the linter to name, rather than failing the document.
                Description = TagDescriptions.GetValueOrDefault(name),
            }));
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, _, _) =>
        {
            // The summaries are whole sentences: an operation without a longer description says at least that.
            if (string.IsNullOrEmpty(operation.Description))
                operation.Description = operation.Summary;
            foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>() ?? [])
            {
                if (string.IsNullOrEmpty(parameter.Description) && parameter.Name is { } name
                    && ParameterDescriptions.TryGetValue((parameter.In, name), out var description))
                    parameter.Description = description;
            }
            return Task.CompletedTask;
        });
        return options;
    }
}
