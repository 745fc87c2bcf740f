using System.Net;
using System.Text;

namespace FlightDelay.Tests.Support;

/// <summary>
/// A request body that a test streams in two parts: a head at once, then nothing until <see cref="Release"/>, then
/// the tail. It stands for a slow client holding its upload open.
/// </summary>
public sealed class GatedContent : HttpContent
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _head;
    private readonly string _tail;

    public GatedContent(string head, string tail, string mediaType = "text/csv")
    {
        (_head, _tail) = (head, tail);
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(mediaType);
    }

    public void Release() => _gate.TrySetResult();

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(_head));
        await stream.FlushAsync();
        await _gate.Task;
        await stream.WriteAsync(Encoding.UTF8.GetBytes(_tail));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
