using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace FlightDelay.Api.Jobs;

/// <summary>
/// Uploads in the text encoding they come in: the parsers read UTF-8, so a body in UTF-16 or UTF-32 (told by its byte
/// order mark) or in the Content-Type's <c>charset</c> (<c>utf-16</c>, <c>iso-8859-1</c>, <c>windows-1252</c>, ...) is
/// transcoded to UTF-8 as it streams. A byte order mark wins over a charset, as it does in browsers (WHATWG Encoding).
/// </summary>
internal static class UploadEncoding
{
    /// <summary>The body as UTF-8, or why its charset cannot be read.</summary>
    public static async Task<(PipeReader? Body, string? Refusal)> ToUtf8Async(PipeReader body, string? contentType, CancellationToken cancellationToken)
    {
        Encoding? declared = null;
        if (MediaTypeHeaderValue.TryParse(contentType, out var media) && media.Charset.HasValue)
        {
            var charset = media.Charset.ToString().Trim('"');
            declared = Resolve(charset);
            if (declared is null)
                return (null, $"charset '{charset}' is not one this server reads; send UTF-8 (or UTF-16, UTF-32, ISO-8859-1, windows-1252, with that charset).");
        }

        var (bom, workbook) = await SniffAsync(body, cancellationToken);
        if (workbook)
            return (null, WorkbookAdvice);
        var source = bom ?? declared;
        if (source is null || source.CodePage == Encoding.UTF8.CodePage)
            return (body, null);
        var transcoded = Encoding.CreateTranscodingStream(body.AsStream(leaveOpen: true), source, Encoding.UTF8, leaveOpen: false);
        return (PipeReader.Create(transcoded), null);
    }

    /// <summary>What a workbook sent as text, or under a spreadsheet's media type, is told.</summary>
    public const string WorkbookAdvice =
        "The upload is a spreadsheet workbook (.xlsx, .xls or .ods), not CSV. Save it as CSV first: in Excel, File > Save As > " +
        "'CSV UTF-8 (Comma delimited)'; in LibreOffice or Google Sheets, save or download as CSV. Semicolon or tab separated exports are read as they are.";

    /// <summary>
    /// The encoding a byte order mark at the start names (or null), and whether the start is a workbook's signature: a
    /// ZIP archive (.xlsx, .ods) or an OLE compound file (.xls). The bytes stay unread.
    /// </summary>
    private static async Task<(Encoding? ByteOrderMark, bool Workbook)> SniffAsync(PipeReader body, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length < 4 && !read.IsCompleted)
            {
                body.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            Span<byte> start = stackalloc byte[4];
            var length = (int)Math.Min(4, buffer.Length);
            buffer.Slice(0, length).CopyTo(start);
            body.AdvanceTo(buffer.Start);
            if (start[..length] is [0x50, 0x4B, 0x03, 0x04] or [0xD0, 0xCF, 0x11, 0xE0])
                return (null, true);
            return (start[..length] switch
            {
                [0xFF, 0xFE, 0x00, 0x00] => new UTF32Encoding(bigEndian: false, byteOrderMark: true),
                [0x00, 0x00, 0xFE, 0xFF] => new UTF32Encoding(bigEndian: true, byteOrderMark: true),
                [0xFF, 0xFE, ..] => new UnicodeEncoding(bigEndian: false, byteOrderMark: true),
                [0xFE, 0xFF, ..] => new UnicodeEncoding(bigEndian: true, byteOrderMark: true),
                [0xEF, 0xBB, 0xBF, ..] => Encoding.UTF8,
                _ => null,
            }, false);
        }
    }

    private static Encoding? Resolve(string charset)
    {
        try
        {
            // The code pages (windows-1252, the usual Excel export on Windows) come with the framework but are not registered.
            return System.Text.CodePagesEncodingProvider.Instance.GetEncoding(charset) ?? Encoding.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
