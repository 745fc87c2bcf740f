using System.Buffers;
using System.Text;
using FlightDelay.Api.Jobs;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Jobs;

/// <summary>The streaming CSV and JSON readers, fed in arbitrary pieces as the network would.</summary>
[Trait("Tier", "Fast")]
public class UploadParserTests
{
    private static (List<float[]> Rows, List<RowError> Errors) Parse(IUploadParser parser, string text, int pieceSize = 7, int maxRows = 1_000_000)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var sink = new RowSink(batchRows: 3, maxRows);
        var rows = new List<float[]>();
        var buffered = new List<byte>();
        var offset = 0;
        while (true)
        {
            var take = Math.Min(pieceSize, bytes.Length - offset);
            buffered.AddRange(bytes.AsSpan(offset, take).ToArray());
            offset += take;
            var isFinal = offset == bytes.Length;
            while (true)
            {
                var sequence = new ReadOnlySequence<byte>(buffered.ToArray());
                var consumed = (int)sequence.Slice(0, parser.Parse(sequence, isFinal, sink)).Length;
                buffered.RemoveRange(0, consumed);
                var batch = sink.Batch.ToArray();
                for (var i = 0; i < sink.Pending; i++) rows.Add(batch[(i * 37)..((i + 1) * 37)]);
                var wasFull = sink.IsFull;
                sink.Clear();
                if (sink.ShouldStop || !wasFull) break;
            }
            if (isFinal || sink.ShouldStop) return (rows, sink.Errors);
        }
    }

    private static CsvUploadParser Csv() => new(maxLineBytes: 1024 * 1024);

    private static JsonUploadParser Json() => new(maxFlightBytes: 1024 * 1024);

    [Theory]
    [InlineData("airline,flightType,month\nGrupo LATAM,I,7\nSky Airline,N,12\n")]
    [InlineData("airline,flightType,month\r\nGrupo LATAM,I,7\r\nSky Airline,N,12\r\n")]
    [InlineData("\uFEFFairline,flightType,month\nGrupo LATAM,I,7\nSky Airline,N,12")]
    [InlineData("Month,FlightType,Airline\n7,I,Grupo LATAM\n\n12,N,\"Sky Airline\"\n\n")]
    [InlineData("airline,flightType,month\n\"Grupo LATAM\",\"I\",\"7\"\r\nSky Airline,N,12\n")]
    public void Named_csv_in_any_line_ending_order_or_quoting_gives_the_same_rows(string csv)
    {
        foreach (var piece in new[] { 1, 5, 4096 })
        {
            var (rows, errors) = Parse(Csv(), csv, piece);

            Assert.Empty(errors);
            Assert.Equal([TestFiles.Encode("Grupo LATAM", "I", 7), TestFiles.Encode("Sky Airline", "N", 12)], rows);
        }
    }

    [Fact]
    public void Raw_csv_with_and_without_a_header_reads_37_numbers_per_row()
    {
        var rows = TestFiles.TestRows.Take(5).Select(r => r.Features).ToList();
        var body = string.Concat(rows.Select(r => string.Join(",", r.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "\n"));
        var header = string.Join(",", FlightSchema.FeatureNames.Select(n => $"\"{n}\"")) + "\n";

        Assert.Equal(rows, Parse(Csv(), body).Rows);
        Assert.Equal(rows, Parse(Csv(), header + body).Rows);
    }

    [Fact]
    public void Csv_row_errors_give_row_and_line_numbers_and_reading_goes_on()
    {
        var (_, errors) = Parse(Csv(), "airline,flightType,month\nGrupo LATAM,I,7\nPan Am,I,7\n\nIberia,N\nIberia,N,x\n\"Iberia,N,3\n");

        Assert.Equal(
            [(2, "row 2 (line 3)"), (3, "row 3 (line 5)"), (4, "row 4 (line 6)"), (5, "row 5 (line 7)")],
            errors.Select(e => (e.Row, e.Where)));
        Assert.Contains("Pan Am", errors[0].Message);
        Assert.Contains("found 2", errors[1].Message);
        Assert.Contains("'x' is not a month", errors[2].Message);
        Assert.Contains("quote", errors[3].Message);
    }

    [Theory]
    [InlineData("flight,when\nLA800,today\n", "Unrecognized first line")]
    [InlineData("1,2,3\n", "Unrecognized first line")]
    public void An_unrecognized_layout_is_one_clear_error(string csv, string expected)
    {
        var (_, errors) = Parse(Csv(), csv);

        Assert.Contains(expected, Assert.Single(errors).Message);
    }

    [Fact]
    public void Raw_csv_rejects_non_numbers_nan_and_infinity()
    {
        var zeros = string.Join(",", Enumerable.Repeat("0", 36));
        var (_, errors) = Parse(Csv(), $"0,{zeros}\nx,{zeros}\nNaN,{zeros}\n1e39,{zeros}\n0,{zeros}\n");

        Assert.Equal([2, 3, 4], errors.Select(e => e.Row));
        Assert.All(errors, e => Assert.Contains("Column 1", e.Message));
    }

    [Fact]
    public void An_endless_line_is_refused_without_buffering_it_all()
    {
        var parser = new CsvUploadParser(maxLineBytes: 1000);
        var (_, errors) = Parse(parser, "airline,flightType,month\n" + new string('x', 5000), pieceSize: 600);

        Assert.Contains("longer than 1000 bytes", Assert.Single(errors).Message);
    }

    [Fact]
    public void Rows_beyond_the_job_limit_are_an_error()
    {
        var (_, errors) = Parse(Csv(), JobApi.Csv(JobApi.Flights(5)), maxRows: 3);

        Assert.Contains("at most 3 rows", Assert.Single(errors).Message);
    }

    [Fact]
    public void Json_flights_stream_in_pieces_named_or_raw()
    {
        var features = TestFiles.Encode("Iberia", "N", 3);
        var json = "\uFEFF{ \"flights\" : [ {\"airline\": \"Grupo LATAM\", \"flightType\": \"I\", \"month\": 7}, {\"features\": ["
            + string.Join(", ", features) + "]} ] }";

        foreach (var piece in new[] { 1, 3, 64, 4096 })
        {
            var (rows, errors) = Parse(Json(), json, piece);
            Assert.True(errors.Count == 0, $"piece {piece}: {string.Join("; ", errors)}");
            Assert.Equal([TestFiles.Encode("Grupo LATAM", "I", 7), features], rows);
        }
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"flight\": []}", "Unexpected property 'flight'")]
    [InlineData("{}", "Missing 'flights'")]
    [InlineData("{\"flights\": 5}", "must be an array")]
    [InlineData("{\"flights\": [{\"airline\": \"Iberia\"", "Invalid JSON")]
    [InlineData("{\"flights\": [", "Invalid JSON")]
    [InlineData("{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": \"3\"}]}", "Invalid JSON")]
    [InlineData("{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 3}]} x", "Invalid JSON")]
    [InlineData("{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 3, \"month\": 4}]}", "Invalid JSON")]
    [InlineData("{\"flights\": [{\"airline\": \"Iberia\", \"flightType\": \"I\", \"month\": 3}], \"extra\": 1}", "Unexpected property 'extra'")]
    [InlineData("{\"flights\": [3]}", "must be an object")]
    [InlineData("{\"flights\": [null]}", "must be an object")]
    [InlineData("{\"flights\": [{\"features\": [1, NaN]}]}", "Invalid JSON")]
    public void Malformed_json_is_reported_not_thrown(string json, string expected)
    {
        foreach (var piece in new[] { 1, 4096 })
        {
            var (_, errors) = Parse(Json(), json, piece);
            Assert.Contains(expected, Assert.Single(errors).Message);
        }
    }

    public static TheoryData<string, string> SpreadsheetExports => new()
    {
        // Excel where the decimal mark is a comma: semicolons, a byte order mark, CRLF, human headers, an ID column.
        { "Excel, semicolons", "\uFEFFFlight ID;Airline;Flight Type;Month\r\nA1;Grupo LATAM;I;7\r\nB2;Sky Airline;N;12\r\n" },
        { "Excel sep= line", "sep=;\r\nairline;flightType;month\r\nGrupo LATAM;I;7\r\nSky Airline;N;12\r\n" },
        { "tabs", "id\tairline\tflight_type\tmonth\n1\tGrupo LATAM\tI\t7\n2\tSky Airline\tN\t12\n" },
        { "seed's columns, aliases, month names, padding", "OPERA,TIPOVUELO,MES,,\nLATAM,International,Jul,,\nsky,Nacional,diciembre,,\n" },
        { "accents and quoted semicolons", "Aerolínea;Tipo de vuelo;Mes;Nota\n\"Grupo LATAM\";I;07;\"a;b\"\nSKY AIRLINE;n;Dec;\n" },
    };

    [Theory]
    [MemberData(nameof(SpreadsheetExports))]
    public void Spreadsheet_exports_read_as_the_flights_they_name(string name, string csv)
    {
        foreach (var piece in new[] { 1, 3, 4096 })
        {
            var (rows, errors) = Parse(Csv(), csv, piece);

            Assert.True(errors.Count == 0, $"{name}, piece {piece}: {string.Join("; ", errors)}");
            Assert.Equal([TestFiles.Encode("Grupo LATAM", "I", 7), TestFiles.Encode("Sky Airline", "N", 12)], rows);
        }
    }

    [Fact]
    public void Columns_other_than_the_three_are_named_for_passing_through()
    {
        var parser = Csv();
        Parse(parser, "Flight ID;Airline;Flight Type;;Month;Gate\nA1;Iberia;I;;3;7\n");

        Assert.Equal(["Flight ID", "Gate"], parser.PassthroughNames);
    }

    [Theory]
    [InlineData("airline,flightType,month\nIberai,I,3\n", "Unknown airline 'Iberai'. Did you mean 'Iberia'?")]
    [InlineData("airline,flightType,month\nAerolinas Argentinas,I,3\n", "Did you mean 'Aerolineas Argentinas'?")]
    [InlineData("airline,flightType,month\nIberia,Internatonal,3\n", "Unknown flightType 'Internatonal'. Did you mean 'I'?")]
    [InlineData("airline,flightType,month\nIberia,I,Jull\n", "month 'Jull' is not a month")]
    [InlineData("airline,flightType,month\nPan Am,I,3\n", "Unknown airline 'Pan Am'. Accepted values:")]
    [InlineData("Airline;Flight Typ;Month\nIberia;I;3\n", "The header has no flightType column (found: 'Airline', 'Flight Typ', 'Month'). 'Flight Typ': Did you mean 'flightType'?")]
    [InlineData("airline;flightType;month;id\nIberia;I;3\n", "Expected 4 columns, as in the header, found 3.")]
    [InlineData("Airline;Airline Name;Flight Type;Month\nIberia;Iberia;I;3\n", "Two columns are read as airline: 'Airline' and 'Airline Name'.")]
    [InlineData("flights\nIberia\n", "Unrecognized first line (1 column separated by commas)")]
    public void Near_misses_say_what_was_meant(string csv, string expected)
    {
        var (rows, errors) = Parse(Csv(), csv);

        Assert.Empty(rows);
        Assert.Contains(expected, Assert.Single(errors).Message);
    }

    [Fact]
    public void Raw_features_separated_by_semicolons_may_use_decimal_commas()
    {
        var features = TestFiles.Encode("Iberia", "N", 4);
        features[30] = 0.5f;
        var csv = string.Join(";", features.Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture).Replace('.', ','))) + "\n";

        var (rows, errors) = Parse(Csv(), csv);

        Assert.Empty(errors);
        Assert.Equal([features], rows);
    }
}
