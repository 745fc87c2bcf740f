using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.Infrastructure;

/// <summary>Reads a bounded JSON request body without copying it, with problem answers for what a client can get wrong.</summary>
internal static class RequestBody
{
    /// <summary>
    /// Buffers the whole body (at most <paramref name="maxBytes"/>) and hands it to <paramref name="parse"/>.
    /// Answers <c>415</c> for a non-JSON content type (none at all is taken as JSON, as the seed's
    /// <c>get_json(force=True)</c> did) and <c>413</c> for a body over the limit.
    /// </summary>
    public static ValueTask<(T? Value, ProblemHttpResult? Problem)> ReadJsonAsync<T>(
        HttpRequest request, long maxBytes, Func<ReadOnlySequence<byte>, (T? Value, ProblemHttpResult? Problem)> parse)
    {
        if (!IsJson(request.ContentType))
            return ValueTask.FromResult<(T?, ProblemHttpResult?)>((default, Problems.UnsupportedMediaType(request.ContentType, "application/json")));
        if (request.ContentLength > maxBytes)
            return ValueTask.FromResult<(T?, ProblemHttpResult?)>((default, Problems.TooLarge(maxBytes)));

        return ReadWholeAsync(request, maxBytes, parse,
            static (body, parse) => parse(WithoutByteOrderMark(body)),
            static max => (default, Problems.TooLarge(max)),
            static ex => (default, Problems.Status(ex.StatusCode, "The request body could not be read.", ex.Message)));
    }

    /// <summary>
    /// Buffers the whole body (at most <paramref name="maxBytes"/>, without copying it) and hands it to
    /// <paramref name="parse"/> with <paramref name="state"/>; the buffer is released once that returns. A longer body
    /// is <paramref name="tooLarge"/>, one Kestrel cannot read (aborted, malformed, over its own limit) <paramref name="unreadable"/>.
    /// State and static lambdas rather than captures: this is on the sync hot path.
    /// </summary>
    public static async ValueTask<T> ReadWholeAsync<T, TState>(HttpRequest request, long maxBytes, TState state,
        Func<ReadOnlySequence<byte>, TState, T> parse, Func<long, T> tooLarge, Func<BadHttpRequestException, T> unreadable)
    {
        var reader = request.BodyReader;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(request.HttpContext.RequestAborted);
            }
            catch (BadHttpRequestException ex)
            {
                return unreadable(ex);
            }


            var buffer = read.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.End);
                return tooLarge(maxBytes);
            }
            if (read.IsCompleted)
            {
                try
                {
                    return parse(buffer, state);
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    // Some clients (PowerShell, Windows tools) start UTF-8 with a byte order mark; JSON readers refuse it.
    private static ReadOnlySequence<byte> WithoutByteOrderMark(ReadOnlySequence<byte> body) =>
        body.FirstSpan.StartsWith("\uFEFF"u8) ? body.Slice(3) : body;

    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType)) return true;
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media)) return false;
        return media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase);
    }
}
