using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;

namespace FlightDelay.Client;

/// <summary>
/// An upload streamed from its source, gzip-compressed on the fly when asked, without knowing its length (chunked).
/// Each send opens the source anew (or rewinds it), so a retried request sends the whole body again.
/// </summary>
internal sealed class UploadContent : HttpContent
{
    private readonly Func<Stream> _open;
    private readonly bool _ownsStream;
    private readonly bool _gzip;
    private readonly IProgress<long>? _progress;

    public UploadContent(Func<Stream> open, bool ownsStream, string mediaType, bool gzip, IProgress<long>? progress)
    {
        _open = open;
        _ownsStream = ownsStream;
        _gzip = gzip;
        _progress = progress;
        Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        if (gzip) Headers.ContentEncoding.Add("gzip");
    }

    /// <summary>Whether sending it again sends the same bytes: a file is reopened, a seekable stream rewound; a one-way stream cannot.</summary>
    public bool CanResend { get; init; } = true;

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = _open();
        try
        {
            if (_gzip)
            {
                // Fastest: on two cores the upload should keep pace with the network, and gzip's first level already
                // shrinks CSV about ten-fold.
                var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true);
                await using (gzip.ConfigureAwait(false))
                    await CopyAsync(source, gzip, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await CopyAsync(source, stream, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (_ownsStream) await source.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task CopyAsync(Stream source, Stream target, CancellationToken cancellationToken)
    {
        var buffer = new byte[128 * 1024];
        long total = 0;
        _progress?.Report(0);
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
            _progress?.Report(total);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
