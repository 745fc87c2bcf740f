using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// One upload format of <c>POST /v1/jobs</c>: its name, the media types that select it (the first is the one it is
/// documented under), how to make its parser, and what it looks like, for the OpenAPI document. A text format's
/// body is transcoded to UTF-8 first (<see cref="UploadEncoding"/>); a binary one is read as it is.
/// </summary>
internal sealed record UploadFormat(string Name, string[] MediaTypes, Func<IUploadParser> CreateParser, string Description, bool IsText = true);

/// <summary>
/// The upload formats, in one place: the intake picks the parser here, the <c>415</c> lists what is here, and the
/// OpenAPI document's request body has an entry per format. A new format is one entry and its parser.
/// </summary>
internal static class UploadFormats
{
    /// <summary>The longest line (CSV, JSON Lines) or flight object (JSON) a parser takes.</summary>
    private const int MaxUnitBytes = 1024 * 1024;

    public static readonly UploadFormat Csv = new("CSV", ["text/csv", "application/csv", "text/tab-separated-values"], () => new CsvUploadParser(MaxUnitBytes),
        "A header line naming airline, flightType and month (in any order, any case; also 'Flight Type', OPERA, TIPOVUELO, MES) and a row per flight, " +
        "other columns echoed into the results; or 37 numeric feature columns per row, with or without a header. Separated by commas, semicolons or tabs " +
        "(told from the first line, or an Excel 'sep=;' line).");

    public static readonly UploadFormat Json = new("JSON", ["application/json"], () => new JsonUploadParser(MaxUnitBytes),
        "{\"flights\": [...]} as for /v1/predictions; any application/*+json too.");

    public static readonly UploadFormat JsonLines = new("JSON Lines", ["application/x-ndjson", "application/jsonl", "application/x-jsonlines"],
        () => new JsonLinesUploadParser(MaxUnitBytes),
        "One flight object per line, as in /v1/predictions' flights: {\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 3} or {\"features\": [...]}.");

    public static readonly UploadFormat Parquet = new("Parquet", ["application/vnd.apache.parquet", "application/x-parquet"],
        () => new ParquetUploadParser(),
        "An Apache Parquet file (any compression, any number of row groups) with columns airline, flightType and month (other columns are ignored), or 37 numeric feature columns.",
        IsText: false);

    public static readonly IReadOnlyList<UploadFormat> All = [Csv, Json, JsonLines, Parquet];

    /// <summary>What a <c>415</c> says is accepted.</summary>
    public static string Accepted =>
        string.Join(", ", All.Select(f => $"{f.MediaTypes[0]} ({f.Name})")) + "; also any application/*+json";

    /// <summary>The format a Content-Type selects, or null.</summary>
    public static UploadFormat? For(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return null;
        var type = media.MediaType.ToString();
        // Any application/*+json is JSON (RFC 6839), as on the sync routes.
        if (media.Type.Equals("application", StringComparison.OrdinalIgnoreCase) && media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase))
            return Json;
        return All.FirstOrDefault(f => f.MediaTypes.Contains(type, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>A spreadsheet workbook's media type (Excel's two, OpenDocument's), which no parser reads: its sender gets advice.</summary>
    public static bool IsWorkbook(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media) && media.MediaType.ToString().ToLowerInvariant() is
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" or "application/vnd.ms-excel" or "application/vnd.oasis.opendocument.spreadsheet";

    /// <summary>The job submission's request body in the OpenAPI document: one entry per format, JSON with its schema.</summary>
    public static RouteHandlerBuilder DocumentsUploadFormats(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var content = new Dictionary<string, OpenApiMediaType>();
            foreach (var format in All)
            {
                var schema = format == Json
                    ? await context.GetOrCreateSchemaAsync(typeof(Predictions.PredictionRequest), null, cancellationToken)
                    : new OpenApiSchema { Type = JsonSchemaType.String, Format = format.IsText ? null : "binary", Description = format.Description };
                content[format.MediaTypes[0]] = new OpenApiMediaType { Schema = schema };
            }
            operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content };
        });
}
