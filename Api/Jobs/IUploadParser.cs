using System.Buffers;

namespace FlightDelay.Api.Jobs;

/// <summary>Turns an upload's bytes into rows, as they arrive.</summary>
internal interface IUploadParser
{
    /// <summary>
    /// Parses the complete rows at the start of <paramref name="buffer"/> into <paramref name="sink"/>, stopping early
    /// when the sink is full or should stop. Returns how far it consumed. When <paramref name="isFinal"/> and the sink
    /// has room, it consumes everything or records why it cannot.
    /// </summary>
    SequencePosition Parse(ReadOnlySequence<byte> buffer, bool isFinal, RowSink sink);

    /// <summary>
    /// For a format readable only once whole (Parquet keeps its schema at the end of the file, so <see cref="Parse"/>
    /// only keeps the bytes): called after the body ended, it adds the rows it holds to <paramref name="sink"/> until the
    /// sink is full or should stop; true while rows remain. Formats read as they stream hold none.
    /// </summary>
    ValueTask<bool> ReadHeldRowsAsync(RowSink sink, CancellationToken cancellationToken) => ValueTask.FromResult(false);
}
