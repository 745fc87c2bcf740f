using System.Globalization;
using System.Net;
using System.Text.Json;
using FlightDelay.Client;
using FlightDelay.Contracts;
using Spectre.Console;

namespace FlightDelay.Cli;

/// <summary>One run of a command: the client, where output goes, and how failures become exit codes.</summary>
internal sealed partial class Session
{
    internal static readonly JsonSerializerOptions JsonOut = new(JsonSerializerDefaults.Web);

    public Session(string? url, bool json)
    {
        var address = url ?? Environment.GetEnvironmentVariable(Program.UrlVariable);
        BaseAddress = string.IsNullOrWhiteSpace(address) ? FlightDelayClientOptions.DefaultBaseAddress
            : Uri.TryCreate(address, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https" ? parsed
            : throw new UsageException($"'{address}' is not an http or https URL.");
        Json = json;
        Client = FlightDelayClient.Create(new FlightDelayClientOptions
        {
            BaseAddress = BaseAddress,
            ApiKey = Environment.GetEnvironmentVariable(Program.ApiKeyVariable),
        });
        // A live display only where a person watches: stdout is a terminal and JSON was not asked for.
        Terminal = !json && !Console.IsOutputRedirected;
        Interactive = Terminal && !Console.IsInputRedirected;
        Out = Terminal
            ? AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.Detect, ColorSystem = ColorSystemSupport.Detect, Interactive = Interactive ? InteractionSupport.Yes : InteractionSupport.No })
            : AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
    }

    public Uri BaseAddress { get; }

    public FlightDelayClient Client { get; }

    public bool Json { get; }

    /// <summary>stdout is a terminal (and not --json): progress bar, colours, tables.</summary>
    public bool Terminal { get; }

    /// <summary>A person can answer a question: stdin and stdout are terminals.</summary>
    public bool Interactive { get; }

    public IAnsiConsole Out { get; }

    /// <summary>Runs a command, turning what went wrong into a message on stderr and an exit code.</summary>
    public async Task<int> RunAsync(Func<Session, Task<int>> command)
    {
        try
        {
            return await command(this);
        }
        catch (UsageException ex)
        {
            return Fail(ExitCodes.InvalidInput, ex.Message);
        }
        catch (FlightDelayApiException ex) when ((int)ex.Status is >= 400 and < 500)
        {
            var lines = new List<string> { $"{ex.StatusCode} {ex.Title}{(ex.Detail is null ? "" : $": {ex.Detail}")}" };
            lines.AddRange(ex.Errors.SelectMany(e => e.Value.Select(m => $"  {e.Key}: {m}")));
            lines.AddRange(ex.Rows.Select(r => $"  {r.Where}: {r.Message}"));
            return Fail(ExitCodes.InvalidInput, string.Join(Environment.NewLine, lines), ex);
        }
        catch (FlightDelayApiException ex)
        {
            return Fail(ExitCodes.Unreachable, $"the service at {BaseAddress} answered {ex.StatusCode} {ex.Title}{(ex.Detail is null ? "" : $": {ex.Detail}")}", ex);
        }
        catch (HttpRequestException ex)
        {
            return Fail(ExitCodes.Unreachable, $"cannot reach the service at {BaseAddress}: {ex.Message} (set --url or {Program.UrlVariable})");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or ArgumentException)
        {
            return Fail(ExitCodes.InvalidInput, ex.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail(ExitCodes.Interrupted, "interrupted");
        }
    }

    private int Fail(int code, string message, FlightDelayApiException? problem = null)
    {
        if (Json)
            Console.Error.WriteLine(JsonSerializer.Serialize(new
            {
                error = message,
                status = problem?.StatusCode,
                title = problem?.Title,
                detail = problem?.Detail,
                errors = problem?.Errors,
                rows = problem?.Rows,
                exitCode = code,
            }, JsonOut));
        else
            Console.Error.WriteLine($"error: {message}");
        return code;
    }

    private static void WriteJson<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOut));

    // ---- predict and model --------------------------------------------------------------------------------------

    public async Task<int> PredictAsync(string? airline, string? type, int? month, float[] features, CancellationToken cancellationToken)
    {
        var named = airline is not null || type is not null || month is not null;
        Flight flight;
        if (named && features.Length > 0)
            throw new UsageException("Give either --airline, --type and --month, or 37 numbers, not both.");
        if (named)
        {
            if (airline is null || type is null || month is null)
                throw new UsageException("A flight by name needs all of --airline, --type and --month.");
            flight = Flight.Named(airline, type, month.Value);
        }
        else if (features.Length == 37)
        {
            flight = Flight.FromFeatures(features);
        }
        else
        {
            throw new UsageException(features.Length == 0
                ? "Give a flight: --airline, --type and --month, or the 37 numbers."
                : $"A flight as numbers needs exactly 37 of them; received {features.Length}.");
        }

        var answer = await Client.PredictAsync([flight], cancellationToken);
        if (Json)
        {
            WriteJson(answer);
            return ExitCodes.Succeeded;
        }
        var p = answer.Predictions[0];
        var what = named ? $"{airline}, {(type!.Equals("I", StringComparison.OrdinalIgnoreCase) ? "international" : "national")}, month {month}" : "the flight";
        Console.Out.WriteLine($"{what}: {(p.Delayed ? "delayed" : "on time")} (probability of a delay over 15 minutes {p.Probability.ToString("0.000", CultureInfo.InvariantCulture)}; model {answer.ModelVersion})");
        return ExitCodes.Succeeded;
    }

    public async Task<int> ShowModelAsync(CancellationToken cancellationToken)
    {
        var model = await Client.GetModelAsync(cancellationToken);
        if (Json)
        {
            WriteJson(model);
            return ExitCodes.Succeeded;
        }
        var m = model.Metrics;
        Console.Out.WriteLine($"model        {model.Version} ({model.Algorithm}, trained {model.TrainedAt:yyyy-MM-dd HH:mm} UTC on {model.TrainRows:N0} flights)");
        if (m is not null)
            Console.Out.WriteLine(FormattableString.Invariant($"test metrics ROC AUC {m.RocAuc:0.0000}, recall {m.Recall:0.0000}, precision {m.Precision:0.0000}, F1 {m.F1:0.0000}, accuracy {m.Accuracy:0.0000} ({model.TestRows:N0} flights)"));
        Console.Out.WriteLine($"airlines     {string.Join(", ", model.Airlines)}");
        Console.Out.WriteLine($"flight types {string.Join(", ", model.FlightTypes)}; months {(model.Months.Count > 0 ? model.Months[0] : 1)} to {(model.Months.Count > 0 ? model.Months[^1] : 12)}");
        return ExitCodes.Succeeded;
    }

    // ---- jobs ---------------------------------------------------------------------------------------------------

    public async Task<int> SubmitAsync(string path, string? inputFormat, bool wait, FileInfo? output, string? format, string? name, string? key, bool skip, string? priority,
        CancellationToken cancellationToken)
    {
        var resultFormat = ResultFormatOf(format, output);
        var options = new SubmitOptions { Name = name, IdempotencyKey = key, SkipInvalidRows = skip, Priority = priority };
        JobSubmission submission;
        if (path == "-")
        {
            // A pipe is read once: this submission cannot be retried (the client knows, and does not).
            var stdin = Console.OpenStandardInput();
            await using (stdin)
                submission = await Client.SubmitAsync(stdin, UploadFormatOf(inputFormat ?? "csv"), options, cancellationToken);
        }
        else
        {
            var file = new FileInfo(path);
            if (inputFormat is null && FlightDelayClient.FormatOf(file.Name) is null)
                throw new UsageException($"'{file.Name}': use a .csv, .jsonl, .ndjson, .json or .parquet file, or say --input-format.");
            if (!file.Exists) throw new UsageException($"No file {file.FullName}.");
            submission = await UploadAsync(file, inputFormat is null ? null : UploadFormatOf(inputFormat), options, cancellationToken);
        }
        var job = submission.Job;
        if (!wait && output is null)
        {
            if (Json) WriteJson(job);
            else Console.Out.WriteLine($"job {job.Id} {job.Status}: {job.TotalRows:N0} rows{(submission.Replayed ? " (already submitted with this key)" : "")}; follow it with: flightdelay jobs wait {job.Id}");
            return ExitCodes.Succeeded;
        }
        if (!Json) Console.Out.WriteLine($"job {job.Id} submitted: {job.TotalRows:N0} rows{(submission.Replayed ? " (already submitted with this key)" : "")}");
        return await FollowAsync(job, output, resultFormat, cancellationToken);
    }

    private static UploadFormat UploadFormatOf(string name) => name switch
    {
        "jsonl" => UploadFormat.JsonLines,
        "json" => UploadFormat.Json,
        "parquet" => UploadFormat.Parquet,
        _ => UploadFormat.Csv,
    };

    /// <summary>The upload, with a byte count on a terminal (a large file takes a while to send).</summary>
    private async Task<JobSubmission> UploadAsync(FileInfo file, UploadFormat? format, SubmitOptions options, CancellationToken cancellationToken)
    {
        options = options with { Name = options.Name ?? file.Name };
        Task<JobSubmission> Send(SubmitOptions o) => format is { } f
            ? SendStreamAsync(file, f, o, cancellationToken)
            : Client.SubmitFileAsync(file.FullName, o, cancellationToken);
        if (!Terminal)
            return await Send(options);
        JobSubmission? submitted = null;
        await Out.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask($"uploading {Markup.Escape(file.Name)}", maxValue: Math.Max(1, file.Length));
                submitted = await Send(options with { UploadProgress = new Inline<long>(bytes => task.Value = bytes) });
                task.Value = task.MaxValue;
            });
        return submitted!;
    }

    private async Task<JobSubmission> SendStreamAsync(FileInfo file, UploadFormat format, SubmitOptions options, CancellationToken cancellationToken)
    {
        var stream = file.OpenRead();
        await using (stream)
            return await Client.SubmitAsync(stream, format, options, cancellationToken);
    }

    public async Task<int> WaitAsync(Guid id, FileInfo? output, string? format, CancellationToken cancellationToken)
    {
        var resultFormat = ResultFormatOf(format, output);
        var job = await Client.GetJobAsync(id, cancellationToken);
        return await FollowAsync(job, output, resultFormat, cancellationToken);
    }

    /// <summary>Waits for the job (progress, Ctrl+C), then downloads its results if asked; the exit code says how it ended.</summary>
    private async Task<int> FollowAsync(JobView job, FileInfo? output, ResultFormat format, CancellationToken cancellationToken)
    {
        var (final, exit) = await new Waiter(this).WaitAsync(job, cancellationToken);
        if (final is null) return exit;

        var code = final.Status switch
        {
            JobStatuses.Succeeded => ExitCodes.Succeeded,
            JobStatuses.Canceled => ExitCodes.JobCanceled,
            _ => ExitCodes.JobFailed,
        };
        long? bytes = null;
        if (code == ExitCodes.Succeeded && output is not null)
            bytes = await Client.DownloadResultsAsync(final.Id, format, output.FullName, cancellationToken: cancellationToken);
        if (Json)
        {
            WriteJson(final);
        }
        else
        {
            Console.Out.WriteLine(Describe(final));
            if (bytes is not null) Console.Out.WriteLine($"results: {output!.FullName} ({bytes:N0} bytes, {format.ToString().ToLowerInvariant()})");
        }
        if (final.Status == JobStatuses.Failed) Console.Error.WriteLine($"error: job {final.Id} failed: {final.Error}");
        return code;
    }

    internal static string Describe(JobView job)
    {
        var took = job.FinishedAt is { } end && job.CreatedAt is var start ? $" in {(end - start).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}s" : "";
        var failed = job.FailedRows > 0 ? $", {job.FailedRows:N0} not scored" : "";
        return $"job {job.Id} {job.Status}: {job.ProcessedRows:N0} of {job.TotalRows:N0} rows scored{failed}{took}";
    }

    public async Task<int> StatusAsync(Guid id, CancellationToken cancellationToken)
    {
        var job = await Client.GetJobAsync(id, cancellationToken);
        if (Json)
        {
            WriteJson(job);
            return ExitCodes.Succeeded;
        }
        Console.Out.WriteLine(Describe(job));
        if (job.Name is not null) Console.Out.WriteLine($"name     {job.Name}");
        Console.Out.WriteLine(FormattableString.Invariant($"progress {job.Progress:P1}, {job.ChunksDone} of {job.ChunkCount} chunks"));
        Console.Out.WriteLine($"created  {job.CreatedAt:u}{(job.FinishedAt is { } f ? $", finished {f:u}" : "")}");
        if (job.ModelVersion is not null) Console.Out.WriteLine($"model    {job.ModelVersion}");
        if (job.Error is not null) Console.Out.WriteLine($"error    {job.Error}");
        return ExitCodes.Succeeded;
    }

    public async Task<int> ListAsync(JobListQuery query, CancellationToken cancellationToken)
    {
        var list = await Client.ListJobsAsync(query, cancellationToken);
        if (Json)
        {
            WriteJson(list);
            return ExitCodes.Succeeded;
        }
        if (list.Items.Count == 0)
        {
            Console.Out.WriteLine("no jobs");
            return ExitCodes.Succeeded;
        }
        var table = new Table().Border(Terminal ? TableBorder.Rounded : TableBorder.None)
            .AddColumns("id", "name", "status", "rows", "progress", "created (UTC)");
        foreach (var job in list.Items)
            table.AddRow(job.Id.ToString(), Markup.Escape(job.Name ?? ""), job.Status, job.TotalRows.ToString("N0", CultureInfo.InvariantCulture),
                job.Progress.ToString("P0", CultureInfo.InvariantCulture), job.CreatedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Out.Write(table);
        if (list.Next is not null) Console.Out.WriteLine($"more: --offset {list.Offset + list.Limit}");
        return ExitCodes.Succeeded;
    }

    public async Task<int> CancelAsync(Guid id, CancellationToken cancellationToken)
    {
        var job = await Client.CancelAsync(id, cancellationToken);
        if (Json) WriteJson(job);
        else Console.Out.WriteLine(Describe(job));
        return ExitCodes.Succeeded;
    }

    public async Task<int> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await Client.DeleteAsync(id, cancellationToken))
            throw new FlightDelayApiException(HttpStatusCode.NotFound, "Not Found", $"There is no job {id}.");
        if (Json) WriteJson(new { id, deleted = true });
        else Console.Out.WriteLine($"job {id} deleted");
        return ExitCodes.Succeeded;
    }

    public async Task<int> ResultsAsync(Guid id, FileInfo? output, string? format, CancellationToken cancellationToken)
    {
        if (output is not null)
        {
            var resultFormat = ResultFormatOf(format, output);
            var bytes = await Client.DownloadResultsAsync(id, resultFormat, output.FullName, cancellationToken: cancellationToken);
            if (Json) WriteJson(new { id, path = output.FullName, bytes, format = resultFormat.ToString().ToLowerInvariant() });
            else Console.Out.WriteLine($"results: {output.FullName} ({bytes:N0} bytes)");
            return ExitCodes.Succeeded;
        }
        if (format is "parquet") throw new UsageException("Parquet is a file format: give --out FILE.");
        var jsonLines = Json || format is "jsonl";
        var stdout = Console.Out;
        if (!jsonLines) await stdout.WriteLineAsync("row,delayed,probability,model_version");
        await foreach (var result in Client.GetResultsAsync(id, cancellationToken: cancellationToken))
            await stdout.WriteLineAsync(jsonLines
                ? JsonSerializer.Serialize(result, JsonOut)
                : FormattableString.Invariant($"{result.Row},{(result.Delayed ? 1 : 0)},{result.Probability:R},{result.ModelVersion}"));
        return ExitCodes.Succeeded;
    }

    /// <summary>--format, else --out's extension, else CSV.</summary>
    internal static ResultFormat ResultFormatOf(string? format, FileInfo? output) =>
        (format ?? output?.Extension.TrimStart('.').ToLowerInvariant()) switch
        {
            "jsonl" or "ndjson" => ResultFormat.JsonLines,
            "parquet" => ResultFormat.Parquet,
            _ => ResultFormat.Csv,
        };
}

/// <summary>A mistake in how the command was called: exit code 2 with the message.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>An <see cref="IProgress{T}"/> that runs its handler at once, on the reporting thread (Progress&lt;T&gt; posts it later).</summary>
internal sealed class Inline<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
