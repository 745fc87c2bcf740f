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
}
