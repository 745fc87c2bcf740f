using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

// The batch-job load client of bench/run.
//   job API_URL ROWS          streams a generated ROWS-row CSV to POST /v1/jobs, polls until the job ends;
//                             prints "seconds rows status upload_seconds"
//   copy CONNECTION ROWS      the floor: binary COPY of ROWS result rows into a fresh table with a primary key;
//                             prints "seconds rows"
return args switch
{
    ["job", var api, var rows] => await RunJobAsync(new Uri(api), int.Parse(rows, CultureInfo.InvariantCulture)),
    ["copy", var connection, var rows] => await CopyBaselineAsync(connection, int.Parse(rows, CultureInfo.InvariantCulture)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: job API_URL ROWS | copy POSTGRES_CONNECTION ROWS");
    return 2;
}

static async Task<int> RunJobAsync(Uri api, int rows)
{
    using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(10) };
    var started = Stopwatch.GetTimestamp();
    var response = await http.PostAsync("/v1/jobs", new GeneratedCsv(rows));
    var uploaded = Stopwatch.GetElapsedTime(started);
    if (response.StatusCode != HttpStatusCode.Accepted)
    {
        Console.Error.WriteLine($"submit failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return 1;
    }

    var location = response.Headers.Location!;
    var deadline = started + (long)(TimeSpan.FromMinutes(15).TotalSeconds * Stopwatch.Frequency);
    while (Stopwatch.GetTimestamp() < deadline)
    {
        var job = await http.GetFromJsonAsync<JsonElement>(location);
        var status = job.GetProperty("status").GetString();
        if (status is "succeeded" or "failed" or "canceled")
        {
            var total = Stopwatch.GetElapsedTime(started);
            Console.WriteLine(FormattableString.Invariant($"{total.TotalSeconds:F2} {job.GetProperty("processedRows").GetInt32()} {status} {uploaded.TotalSeconds:F2}"));
            return status == "succeeded" ? 0 : 1;
        }
        await Task.Delay(50);
    }
    Console.Error.WriteLine("job did not finish within 15 minutes");
    return 1;
}

static async Task<int> CopyBaselineAsync(string connectionString, int rows)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    var table = $"bench_copy_{Guid.NewGuid():N}";
    await using (var create = new NpgsqlCommand($"CREATE TABLE {table} (job_id uuid, row_number int, delayed boolean, probability real, PRIMARY KEY (job_id, row_number))", connection))
        await create.ExecuteNonQueryAsync();
    try
    {
        var id = Guid.NewGuid();
        var started = Stopwatch.GetTimestamp();
        await using (var importer = await connection.BeginBinaryImportAsync($"COPY {table} (job_id, row_number, delayed, probability) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 1; i <= rows; i++)
            {
                importer.StartRow();
                importer.Write(id, NpgsqlDbType.Uuid);
                importer.Write(i, NpgsqlDbType.Integer);
                importer.Write(i % 3 == 0, NpgsqlDbType.Boolean);
                importer.Write(i / (float)rows, NpgsqlDbType.Real);
            }
            await importer.CompleteAsync();
        }
        Console.WriteLine(FormattableString.Invariant($"{Stopwatch.GetElapsedTime(started).TotalSeconds:F2} {rows}"));
        return 0;
    }
    finally
    {
        await using var drop = new NpgsqlCommand($"DROP TABLE {table}", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>A CSV of named flights generated while it is sent: no file, no buffering of the whole body.</summary>
internal sealed class GeneratedCsv : HttpContent
{
    private static readonly string[] Airlines = ["Grupo LATAM", "Sky Airline", "Aerolineas Argentinas", "Copa Air", "Latin American Wings", "Avianca", "JetSmart SPA", "Gol Trans", "American Airlines", "Air Canada", "Iberia", "Delta Air", "Aeromexico", "United Airlines", "Oceanair Linhas Aereas", "Alitalia", "K.L.M.", "British Airways", "Qantas Airways", "Lacel Airlines", "Austral", "Plus Ultra Lineas Aereas", "Air France"];
    private readonly int _rows;

    public GeneratedCsv(int rows)
    {
        _rows = rows;
        Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var random = new Random(42);
        var text = new StringBuilder("airline,flightType,month\n");
        for (var i = 0; i < _rows; i++)
        {
            text.Append(Airlines[random.Next(Airlines.Length)]).Append(random.Next(2) == 0 ? ",I," : ",N,").Append(random.Next(1, 13)).Append('\n');
            if (text.Length > 60_000)
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
                text.Clear();
            }
        }
        await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()));
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
