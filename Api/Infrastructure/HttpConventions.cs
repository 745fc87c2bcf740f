using System.IO.Compression;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.Infrastructure;

/// <summary>
/// HTTP semantics every route gets (RFC 9110): <c>HEAD</c> wherever <c>GET</c> answers, compressed request bodies
/// (<c>Content-Encoding</c>: gzip, deflate, br) decompressed before any reader sees them with the size limits applied
/// to the decompressed bytes, and compressed responses for the large text answers.
/// </summary>
internal static class HttpConventions
{
    /// <summary>The request content codings the API decompresses, each with its decompressor: one list for the middleware and the <c>415</c>.</summary>
    private static readonly (string Coding, Func<Stream, Stream> Open)[] Decoders =
    [
        ("gzip", body => new GZipStream(body, CompressionMode.Decompress, leaveOpen: true)),
        ("deflate", body => new ZLibStream(body, CompressionMode.Decompress, leaveOpen: true)),
        ("br", body => new BrotliStream(body, CompressionMode.Decompress, leaveOpen: true)),
    ];

    /// <summary>The request content codings the API decompresses, in the words of a <c>415</c>.</summary>
    public static readonly string[] RequestCodings = [.. Decoders.Select(d => d.Coding)];

    /// <summary>Routes whose answers are large text (result pages and downloads, the OpenAPI document): compressed when asked.</summary>
    private static bool IsLargeText(HttpContext context) =>
        context.Request.Path.StartsWithSegments("/v1/jobs") || context.Request.Path.StartsWithSegments("/openapi");

    public static IServiceCollection AddHttpConventions(this IServiceCollection services)
    {
        // ASP.NET Core's request decompression, under the endpoint's request size limit, with decoders whose "this is
        // not gzip" becomes a 400 that every body reader already answers (Kestrel's BadHttpRequestException).
        services.AddRequestDecompression(o =>
        {
            o.DecompressionProviders.Clear();
            foreach (var (coding, open) in Decoders)
                o.DecompressionProviders.Add(coding, new Decoder(open));
        });
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true;
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
            o.MimeTypes = ["application/json", "application/problem+json", "application/x-ndjson", "text/csv", "text/plain"];
        });
        // Fastest: a download of millions of rows streams at the network's pace, not the compressor's.
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        return services;
    }

    /// <summary>Before routing: a <c>HEAD</c> request is routed as the <c>GET</c> it mirrors.</summary>
    public static WebApplication UseHeadAsGet(this WebApplication app)
    {
        app.Use(AnswerHeadAsGet);
        return app;
    }

    /// <summary>After routing (decompression reads the endpoint's size limit): content codings of requests and responses.</summary>
    public static WebApplication UseContentCodings(this WebApplication app)
    {
        app.Use(RefuseUnknownCodings);
        app.UseRequestDecompression();
        // Only the large text routes: the sync scoring routes' small answers gain nothing and would pay the middleware.
        app.UseWhen(IsLargeText, b => b.UseResponseCompression());
        return app;
    }

    /// <summary>
    /// <c>HEAD</c> runs the <c>GET</c> route and sends its status and headers without the body (RFC 9110 §9.3.2): the
    /// body goes nowhere, and the method is <c>HEAD</c> again before the headers are sent, so the server frames it as one.
    /// </summary>
    private static Task AnswerHeadAsGet(HttpContext context, RequestDelegate next) =>
        HttpMethods.IsHead(context.Request.Method) ? AnswerHeadAsGetAsync(context, next) : next(context);

    private static async Task AnswerHeadAsGetAsync(HttpContext context, RequestDelegate next)
    {
        var body = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        context.Request.Method = HttpMethods.Get;
        try
        {
            await next(context);
        }
        finally
        {
            context.Request.Method = HttpMethods.Head;
            context.Features.Set(body);
        }
    }

    /// <summary>A body in a coding the API cannot decompress is a <c>415</c> that names the ones it can (RFC 9110 §15.5.16).</summary>
    private static Task RefuseUnknownCodings(HttpContext context, RequestDelegate next)
    {
        var header = context.Request.Headers.ContentEncoding;
        if (header.Count == 0) return next(context);
        var coding = header.ToString().Trim();
        if (coding.Length == 0 || coding.Equals("identity", StringComparison.OrdinalIgnoreCase)
            || RequestCodings.Contains(coding, StringComparer.OrdinalIgnoreCase))
            return next(context);
        context.Response.Headers.AcceptEncoding = string.Join(", ", RequestCodings);
        return Problems.Status(StatusCodes.Status415UnsupportedMediaType, "Unsupported content coding.",
                $"Content-Encoding '{coding}' is not supported; send the body as is, or compressed with one of {string.Join(", ", RequestCodings)}.")
            .ExecuteAsync(context);
    }

    /// <summary>
    /// Whether <c>If-None-Match</c> matches <paramref name="current"/>: <c>*</c>, or any tag in the list by weak
    /// comparison (RFC 9110 §13.1.2), so a tag a proxy weakened (<c>W/"…"</c>) still gets its <c>304</c>.
    /// </summary>
    public static bool IsNotModified(HttpRequest request, string current)
    {
        var header = request.Headers.IfNoneMatch;
        if (header.Count == 0 || !EntityTagHeaderValue.TryParseList(header, out var tags)) return false;
        var tag = EntityTagHeaderValue.Parse(current);
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || t.Compare(tag, useStrongComparison: false));
    }

    /// <summary>A decompression provider whose stream answers corrupt input with a 400 for the client, not an exception for the log.</summary>
    private sealed class Decoder(Func<Stream, Stream> open) : Microsoft.AspNetCore.RequestDecompression.IDecompressionProvider
    {
        public Stream GetDecompressionStream(Stream stream) => new DecodingStream(open(stream));
    }

    /// <summary>
    /// Reads through a decompressor, turning its complaints about the input (gzip and deflate throw
    /// <see cref="InvalidDataException"/>, Brotli <see cref="InvalidOperationException"/>) into a <c>400</c>.
    /// </summary>
    private sealed class DecodingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
            {
                throw Undecodable(ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is InvalidDataException or InvalidOperationException)
            {
                throw Undecodable(ex);
            }
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        private static BadHttpRequestException Undecodable(Exception exception) =>
            new($"The request body could not be decompressed as its Content-Encoding says: {exception.Message}", StatusCodes.Status400BadRequest, exception);
    }
}
