using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

// The batch-job load client of bench/run.
//   job API_URL ROWS          streams a generated ROWS-row CSV to POST /v1/jobs, long-polls until the job has succeeded;
//                             prints "seconds rows status upload_seconds"
//   copy CONNECTION ROWS      the floor: binary COPY of ROWS result rows into a fresh table with a primary key;
//                             prints "seconds rows"
//   small API_URL CLIENTS SECONDS ROWS
//                             CLIENTS clients each submitting ROWS-row CSV jobs one after another for SECONDS, asking
//                             Prefer: wait=30 (answered inline when the job ends in time, else long-polled);
//                             prints "jobs_per_second submit_to_final_p50_ms p99_ms created_to_finished_p50_ms p99_ms failures"
//   floor CONNECTION CLIENTS SECONDS ROWS
//                             the per-job floor: only the durable writes one small job needs, in the service's own tables
//                             (one transaction: the job succeeded, its chunk done, its inputs and its results, as the API
//                             records a job it scored as it accepted it),
//                             from CLIENTS connections for SECONDS; prints "jobs_per_second p50_ms p99_ms"
//   behind API_URL BIG_ROWS SMALL_ROWS [BIG_KEY SMALL_KEY]
//                             fairness: a SMALL_ROWS-row job alone, a BIG_ROWS-row job alone, then the big one again with
//                             the small one submitted as soon as the big upload is answered; with keys, each job is
//                             submitted with its own API key (two owners: the dispatch windows' round-robin); prints
//                             "small_alone_seconds small_behind_seconds big_alone_seconds big_with_small_seconds"
var number = (string text) => int.Parse(text, CultureInfo.InvariantCulture);
return args switch
{
    ["job", var api, var rows] => await RunJobAsync(new Uri(api), number(rows)),
    ["copy", var connection, var rows] => await CopyBaselineAsync(connection, number(rows)),
    ["small", var api, var clients, var seconds, var rows] => await SmallJobsAsync(new Uri(api), number(clients), TimeSpan.FromSeconds(number(seconds)), number(rows)),
    ["floor", var connection, var clients, var seconds, var rows] => await FloorAsync(connection, number(clients), TimeSpan.FromSeconds(number(seconds)), number(rows)),
    ["behind", var api, var big, var small] => await BehindAsync(new Uri(api), number(big), number(small), null, null),
    ["behind", var api, var big, var small, var bigKey, var smallKey] => await BehindAsync(new Uri(api), number(big), number(small), bigKey, smallKey),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: job API_URL ROWS | copy POSTGRES_CONNECTION ROWS | small API_URL CLIENTS SECONDS ROWS | floor POSTGRES_CONNECTION CLIENTS SECONDS ROWS | behind API_URL BIG_ROWS SMALL_ROWS [BIG_KEY SMALL_KEY]");
    return 2;
}

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0) return double.NaN;
    values.Sort();
    return values[Math.Clamp((int)Math.Ceiling(p * values.Count) - 1, 0, values.Count - 1)];
}

static async Task<int> SmallJobsAsync(Uri api, int clients, TimeSpan duration, int rows)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients * 2 }) { BaseAddress = api, Timeout = TimeSpan.FromMinutes(2) };
    var body = Encoding.UTF8.GetBytes(GeneratedCsv.Text(rows));
    var clientSide = new List<double>();
    var serverSide = new List<double>();
    var failures = 0;
    var started = Stopwatch.GetTimestamp();
    var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    async Task ClientAsync()
    {
        while (Stopwatch.GetTimestamp() < end)
        {
            var submitted = Stopwatch.GetTimestamp();
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
            JsonElement job;
            try
            {
                job = await RunToEndAsync(http, content);
            }
            catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TaskCanceledException or JsonException)
            {
                // Said, not only counted: a failure's cause is part of the figure.
                if (Interlocked.Increment(ref failures) <= 3) Console.Error.WriteLine($"small job failed: {ex.GetType().Name}: {ex.Message}");
                continue;
            }
            var elapsed = Stopwatch.GetElapsedTime(submitted).TotalMilliseconds;
            lock (clientSide)
            {
                clientSide.Add(elapsed);
                serverSide.Add((job.GetProperty("finishedAt").GetDateTime() - job.GetProperty("createdAt").GetDateTime()).TotalMilliseconds);
            }
        }
    }
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    Console.WriteLine(FormattableString.Invariant(
        $"{clientSide.Count / seconds:F0} {Percentile(clientSide, 0.5):F0} {Percentile(clientSide, 0.99):F0} {Percentile(serverSide, 0.5):F0} {Percentile(serverSide, 0.99):F0} {failures}"));
    return failures == 0 ? 0 : 1;
}

static async Task<int> BehindAsync(Uri api, int bigRows, int smallRows, string? bigKey, string? smallKey)
{
    using var http = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(15) };
    using var other = new HttpClient { BaseAddress = api, Timeout = TimeSpan.FromMinutes(15) };
    if (bigKey is not null) http.DefaultRequestHeaders.Add("X-Api-Key", bigKey);
    if (smallKey is not null) other.DefaultRequestHeaders.Add("X-Api-Key", smallKey);
    var small = Encoding.UTF8.GetBytes(GeneratedCsv.Text(smallRows));
    HttpContent Small()
    {
        var content = new ByteArrayContent(small);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/csv");
        return content;
    }
    // Warm every worker and the API (JIT to tier 1, pools) for at least 15 s of jobs of many chunks, then a few small
    // ones: after one 200,000-row job the API's upload path was still warming, and the big job "alone", measured
    // first, looked slower than the same job measured later beside the small one.
    var warm = Stopwatch.GetTimestamp();
    while (Stopwatch.GetElapsedTime(warm) < TimeSpan.FromSeconds(15))
        await TimeJobAsync(http, new GeneratedCsv(Math.Min(bigRows, 1_000_000)), Stopwatch.GetTimestamp());
    for (var i = 0; i < 4; i++) await TimeJobAsync(other, Small(), Stopwatch.GetTimestamp());
    var alone = await TimeJobAsync(other, Small(), Stopwatch.GetTimestamp());
    // Best of two: the first big job also pays for the tables' growth (and a checkpoint), which the one measured with
    // the small job beside it does not.
    var bigAlone = Math.Min(await TimeJobAsync(http, new GeneratedCsv(bigRows), Stopwatch.GetTimestamp()),
        await TimeJobAsync(http, new GeneratedCsv(bigRows), Stopwatch.GetTimestamp()));

    var bigStarted = Stopwatch.GetTimestamp();
    using var bigResponse = await http.PostAsync("/v1/jobs", new GeneratedCsv(bigRows));
    var big = await bigResponse.Content.ReadFromJsonAsync<JsonElement>();
    var behind = await TimeJobAsync(other, Small(), Stopwatch.GetTimestamp());
    var bigWithSmall = await TimeWaitAsync(http, big, bigStarted);
    Console.WriteLine(FormattableString.Invariant($"{alone:F2} {behind:F2} {bigAlone:F2} {bigWithSmall:F2}"));
    return 0;
}

/// <summary>Seconds from <paramref name="started"/> until the job submitted with <paramref name="body"/> has succeeded.</summary>
static async Task<double> TimeJobAsync(HttpClient http, HttpContent body, long started)
{
    await RunToEndAsync(http, body);
    return Stopwatch.GetElapsedTime(started).TotalSeconds;
}

/// <summary>Submits with Prefer: wait (answered inline when the job ends in time) and long-polls until it has succeeded.</summary>
/// <exception cref="InvalidOperationException">The submission was refused, or the job did not succeed.</exception>
static async Task<JsonElement> RunToEndAsync(HttpClient http, HttpContent body)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = body };
    request.Headers.TryAddWithoutValidation("Prefer", "wait=30");
    using var response = await http.SendAsync(request);
    var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"submit failed: {(int)response.StatusCode} {answer}");
    return await WaitJobAsync(http, response.StatusCode == HttpStatusCode.OK ? answer.GetProperty("job") : answer);
}

/// <summary>Seconds from <paramref name="started"/> until the job has succeeded.</summary>
static async Task<double> TimeWaitAsync(HttpClient http, JsonElement job, long started)
{
    await WaitJobAsync(http, job);
    return Stopwatch.GetElapsedTime(started).TotalSeconds;
}

/// <summary>Long-polls the job (Prefer: wait) until it ends; returns it succeeded.</summary>
/// <exception cref="InvalidOperationException">It failed or was canceled.</exception>
static async Task<JsonElement> WaitJobAsync(HttpClient http, JsonElement job)
{
    while (job.GetProperty("status").GetString() is not ("succeeded" or "failed" or "canceled"))
    {
        using var poll = new HttpRequestMessage(HttpMethod.Get, $"/v1/jobs/{job.GetProperty("id").GetGuid()}");
        poll.Headers.TryAddWithoutValidation("Prefer", "wait=30");
        using var polled = await http.SendAsync(poll);
        job = await polled.Content.ReadFromJsonAsync<JsonElement>();
    }
    return job.GetProperty("status").GetString() == "succeeded" ? job : throw new InvalidOperationException($"job ended {job}");
}

static async Task<int> FloorAsync(string connectionString, int clients, TimeSpan duration, int rows)
{
    var features = new byte[rows * 3];
    var results = new byte[rows * 5];
    var latencies = new List<double>();
    var started = Stopwatch.GetTimestamp();
    var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    await using var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = clients }.ConnectionString);
    async Task ClientAsync()
    {
        while (Stopwatch.GetTimestamp() < end)
        {
            var begun = Stopwatch.GetTimestamp();
            var id = Guid.CreateVersion7();
            var now = DateTime.UtcNow;
            // A small job is scored as it is accepted: the job succeeded, its chunk done, its inputs and its results,
            // in one transaction (the rows the service writes for it; the index and constraint checks come with them).
            await using (var connection = await source.OpenConnectionAsync())
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await using var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        Command("INSERT INTO jobs (id, status, total_rows, processed_rows, failed_rows, chunk_size, chunk_count, chunks_done, created_at, started_at, finished_at, owner, callback_attempts, model_version) VALUES ($1, 'Succeeded', $2, $2, 0, 50000, 1, 1, $3, $3, $3, '', 0, 'floor')", id, rows, now),
                        Command("INSERT INTO job_chunks (job_id, chunk_index, first_row, row_count, invalid_rows, status, attempts, dispatched_at, finished_at, model_version) VALUES ($1, 0, 1, $2, 0, 'Done', 1, $3, $3, 'floor')", id, rows, now),
                        Command("INSERT INTO job_inputs (job_id, chunk_index, features) VALUES ($1, 0, $2)", id, features),
                        Command("INSERT INTO job_chunk_results (job_id, chunk_index, results) VALUES ($1, 0, $2)", id, results),
                    },
                };
                await batch.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
            }
            lock (latencies) latencies.Add(Stopwatch.GetElapsedTime(begun).TotalMilliseconds);
        }
    }
    await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));
    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
    Console.WriteLine(FormattableString.Invariant($"{latencies.Count / seconds:F0} {Percentile(latencies, 0.5):F1} {Percentile(latencies, 0.99):F1}"));
    // Leave the service's tables as they were.
    await using (var cleanup = source.CreateCommand("DELETE FROM job_chunk_results WHERE results IS NOT NULL AND job_id IN (SELECT id FROM jobs WHERE model_version = 'floor'); DELETE FROM job_inputs WHERE job_id IN (SELECT id FROM jobs WHERE model_version = 'floor'); DELETE FROM job_chunks WHERE model_version = 'floor'; DELETE FROM jobs WHERE model_version = 'floor'"))
        await cleanup.ExecuteNonQueryAsync();
    return 0;
}

static NpgsqlBatchCommand Command(string sql, params object[] values)
{
    var command = new NpgsqlBatchCommand(sql);
    foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value });
    return command;
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

    var job = await WaitJobAsync(http, await response.Content.ReadFromJsonAsync<JsonElement>());
    var total = Stopwatch.GetElapsedTime(started);
    Console.WriteLine(FormattableString.Invariant($"{total.TotalSeconds:F2} {job.GetProperty("processedRows").GetInt32()} succeeded {uploaded.TotalSeconds:F2}"));
    return 0;
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

    /// <summary>A whole small CSV of <paramref name="rows"/> flights, for the many-small-jobs load.</summary>
    public static string Text(int rows)
    {
        var random = new Random(rows);
        var text = new StringBuilder("airline,flightType,month\n");
        for (var i = 0; i < rows; i++) AppendRow(text, random);
        return text.ToString();
    }

    private static void AppendRow(StringBuilder text, Random random) =>
        text.Append(Airlines[random.Next(Airlines.Length)]).Append(random.Next(2) == 0 ? ",I," : ",N,").Append(random.Next(1, 13)).Append('\n');

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var random = new Random(42);
        var text = new StringBuilder("airline,flightType,month\n");
        for (var i = 0; i < _rows; i++)
        {
            AppendRow(text, random);
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
