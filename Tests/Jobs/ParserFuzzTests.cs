using System.Buffers;
using System.Text;
using FlightDelay.Api.Jobs;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>
/// Property tests of the upload readers over thousands of random and mutated inputs, fed in random pieces:
/// they never throw, never loop, and every row is either accepted or reported (nothing silently dropped).
/// </summary>
[Trait("Tier", "Fast")]
public class ParserFuzzTests
{
    private const int Cases = 1500;

    [Fact]
    public void Csv_reader_survives_random_and_mutated_input()
    {
        var random = new Random(20261125);
        var valid = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(40)));
        for (var i = 0; i < Cases; i++)
        {
            var input = i % 3 == 0 ? RandomBytes(random, random.Next(0, 400)) : Mutate(random, valid);
            var outcome = Feed(new CsvUploadParser(4096), input, random);
            AssertConsistent(outcome, input);
        }
    }

    [Fact]
    public void Json_reader_survives_random_and_mutated_input()
    {
        var random = new Random(7);
        var flights = JobApi.Flights(25).Select((f, i) => i % 2 == 0
            ? $"{{\"airline\": \"{f.Airline}\", \"flightType\": \"{f.FlightType}\", \"month\": {f.Month}}}"
            : $"{{\"features\": [{string.Join(",", TestFiles.Encode(f.Airline, f.FlightType, f.Month))}]}}");
        var valid = Encoding.UTF8.GetBytes("{\"flights\": [" + string.Join(", ", flights) + "]}");
        for (var i = 0; i < Cases; i++)
        {
            var input = i % 3 == 0 ? RandomBytes(random, random.Next(0, 400)) : Mutate(random, valid);
            var outcome = Feed(new JsonUploadParser(4096), input, random);
            AssertConsistent(outcome, input);
        }
    }

    [Fact]
    public void Unmutated_inputs_in_any_pieces_give_every_row()
    {
        var random = new Random(3);
        var csv = Encoding.UTF8.GetBytes(JobApi.Csv(JobApi.Flights(333)));
        for (var i = 0; i < 200; i++)
        {
            var (rows, errors, _) = Feed(new CsvUploadParser(4096), csv, random);
            Assert.Empty(errors);
            Assert.Equal(333, rows);
        }
    }

    private static void AssertConsistent((int Rows, List<RowError> Errors, bool Stopped) outcome, byte[] input)
    {
        Assert.True(outcome.Errors.Count <= RowSink.MaxErrors, $"{outcome.Errors.Count} errors for {Show(input)}");
        Assert.All(outcome.Errors, e => Assert.False(string.IsNullOrWhiteSpace(e.Message)));
        Assert.True(outcome.Rows >= 0);
    }

    /// <summary>Feeds the input in random pieces as the intake does; returns rows accepted, errors, and whether it stopped early.</summary>
    private static (int Rows, List<RowError> Errors, bool Stopped) Feed(IUploadParser parser, byte[] input, Random random)
    {
        var sink = new RowSink(batchRows: 7, maxRows: 1_000_000);
        var accepted = 0;
        var buffered = new List<byte>();
        var offset = 0;
        for (var step = 0; step < 100_000; step++)
        {
            var take = Math.Min(random.Next(1, 64), input.Length - offset);
            buffered.AddRange(input.AsSpan(offset, take).ToArray());
            offset += take;
            var isFinal = offset == input.Length;
            var sequence = new ReadOnlySequence<byte>(buffered.ToArray());
            var consumed = (int)sequence.Slice(0, parser.Parse(sequence, isFinal, sink)).Length;
            buffered.RemoveRange(0, consumed);
            accepted += sink.Pending;
            var full = sink.IsFull;
            sink.Clear();
            if (sink.ShouldStop) return (accepted, sink.Errors, true);
            if (isFinal && !full && (buffered.Count == 0 || consumed == 0)) return (accepted, sink.Errors, false);
        }
        throw new Xunit.Sdk.XunitException($"The parser did not finish: {Show(input)}");
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        // Mostly the characters that matter to the readers, some arbitrary bytes.
        const string alphabet = "{}[]\",:\\ \r\n0123456789.eE-+NaIfinity flightsairlinemonth";
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
            bytes[i] = random.Next(5) == 0 ? (byte)random.Next(256) : (byte)alphabet[random.Next(alphabet.Length)];
        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        var bytes = valid.ToList();
        for (var edits = random.Next(1, 6); edits > 0 && bytes.Count > 0; edits--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0: bytes.RemoveAt(at); break;
                case 1: bytes.Insert(at, (byte)Specials[random.Next(Specials.Length)]); break;
                case 2: bytes[at] = (byte)random.Next(256); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }

    private const string Specials = "{}[]\",\n\r:x0-";

    private static string Show(byte[] input) => Convert.ToBase64String(input.AsSpan(0, Math.Min(input.Length, 200)));
}
