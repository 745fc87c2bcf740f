using System.CommandLine;
using System.Globalization;
using System.Net;
using FlightDelay.Client;
using FlightDelay.Contracts;

namespace FlightDelay.Cli;

/// <summary>
/// <c>flightdelay</c>: the FlightDelay service from a terminal or a script. Commands: <c>predict</c>, <c>jobs
/// submit|wait|status|list|cancel|results|delete</c>, <c>model show</c>. Exit codes: <see cref="ExitCodes"/>.
/// </summary>
public static class Program
{
    /// <summary>The service's address unless <c>--url</c> says otherwise.</summary>
    public const string UrlVariable = "FLIGHTDELAY_URL";

    /// <summary>The API key, sent as <c>X-Api-Key</c>.</summary>
    public const string ApiKeyVariable = "FLIGHTDELAY_API_KEY";

    public static async Task<int> Main(string[] args)
    {
        var root = Commands.Build();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is not System.CommandLine.Help.HelpAction)
        {
            foreach (var error in parse.Errors) await Console.Error.WriteLineAsync($"error: {error.Message}");
            await Console.Error.WriteLineAsync("See flightdelay --help.");
            return ExitCodes.InvalidInput;
        }
        // No process-termination handler of System.CommandLine's: Ctrl+C while waiting is ours to answer (ask, or stop
        // waiting and print the job id); elsewhere it ends the process as usual.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }
}

/// <summary>The command tree.</summary>
internal static class Commands
{
    public static RootCommand Build()
    {
        var url = new Option<string?>("--url") { Description = $"The service's base URL (default ${Program.UrlVariable}, else {FlightDelayClientOptions.DefaultBaseAddress})", Recursive = true };
        var json = new Option<bool>("--json") { Description = "Machine-readable JSON on stdout, no progress display", Recursive = true };
        var root = new RootCommand("Score flights with the FlightDelay service: one at a time, or files of millions as batch jobs.");
        root.Options.Add(url);
        root.Options.Add(json);
        Session Session(ParseResult p) => new(p.GetValue(url), p.GetValue(json));

        root.Subcommands.Add(Predict(Session));
        root.Subcommands.Add(Jobs(Session));
        var model = new Command("model", "The serving model");
        var show = new Command("show", "The model card: version, algorithm, test metrics, accepted values");
        show.SetAction((p, ct) => Session(p).RunAsync(s => s.ShowModelAsync(ct)));
        model.Subcommands.Add(show);
        root.Subcommands.Add(model);
        return root;
    }

    private static Command Predict(Func<ParseResult, Session> session)
    {
        var airline = new Option<string?>("--airline") { Description = "Airline, as `flightdelay model show` lists them (e.g. \"Grupo LATAM\")" };
        var type = new Option<string?>("--type") { Description = "Flight type: I (international) or N (national)" };
        var month = new Option<int?>("--month") { Description = "Month, 1 to 12" };
        var features = new Argument<float[]>("features") { Description = "Or the seed's 37 one-hot numbers", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("predict", "Scores one flight: by --airline, --type and --month, or as 37 numbers") { airline, type, month, features };
        command.SetAction((p, ct) => session(p).RunAsync(s => s.PredictAsync(p.GetValue(airline), p.GetValue(type), p.GetValue(month), p.GetValue(features) ?? [], ct)));
        return command;
    }

    private static Command Jobs(Func<ParseResult, Session> session)
    {
        var jobs = new Command("jobs", "Batch jobs: submit files, follow them, get their results");

        var file = new Argument<string>("file") { Description = "A .csv, .jsonl, .ndjson, .json or .parquet file of flights, or - for stdin (with --input-format)" };
        var inputFormat = new Option<string?>("--input-format") { Description = "The upload's format when it is not in the file name (stdin): csv, jsonl, json or parquet" };
        inputFormat.AcceptOnlyFromAmong("csv", "jsonl", "json", "parquet");
        var wait = new Option<bool>("--wait") { Description = "Wait for the job to finish, with progress" };
        var output = new Option<FileInfo?>("--out") { Description = "Download the results to this file when the job succeeds (implies --wait)" };
        var format = new Option<string?>("--format") { Description = "Results format: csv, jsonl or parquet (default: from --out's extension, else csv)" };
        format.AcceptOnlyFromAmong("csv", "jsonl", "parquet");
        var name = new Option<string?>("--name") { Description = "The job's name (default: the file's name)" };
        var key = new Option<string?>("--idempotency-key") { Description = "Makes resubmitting safe across runs: the same key and file return the same job (default: a new key per run)" };
        var skip = new Option<bool>("--skip-invalid") { Description = "Score the valid rows and list the invalid ones (jobs errors) instead of refusing the file" };
        var priority = new Option<string?>("--priority") { Description = "low, normal (default) or high: the job's order among your own jobs waiting for your key's dispatch window" };
        priority.AcceptOnlyFromAmong("low", "normal", "high");
        var submit = new Command("submit", "Submits a file as a batch job") { file, inputFormat, wait, output, format, name, key, skip, priority };
        submit.SetAction((p, ct) => session(p).RunAsync(s => s.SubmitAsync(p.GetValue(file)!, p.GetValue(inputFormat), p.GetValue(wait), p.GetValue(output), p.GetValue(format),
            p.GetValue(name), p.GetValue(key), p.GetValue(skip), p.GetValue(priority), ct)));
        jobs.Subcommands.Add(submit);

        var id = new Argument<Guid>("id") { Description = "The job's id" };
        var waitCommand = new Command("wait", "Waits for a job to finish, with progress; --out downloads its results") { id, output, format };
        waitCommand.SetAction((p, ct) => session(p).RunAsync(s => s.WaitAsync(p.GetValue(id), p.GetValue(output), p.GetValue(format), ct)));
        jobs.Subcommands.Add(waitCommand);

        var status = new Command("status", "A job's status and progress") { id };
        status.SetAction((p, ct) => session(p).RunAsync(s => s.StatusAsync(p.GetValue(id), ct)));
        jobs.Subcommands.Add(status);

        var statusFilter = new Option<string?>("--status") { Description = "Only jobs in this status: queued, running, succeeded, failed, canceled" };
        var search = new Option<string?>("--q") { Description = "Only jobs whose name contains this text" };
        var offset = new Option<int>("--offset") { Description = "Jobs to skip", DefaultValueFactory = _ => 0 };
        var limit = new Option<int>("--limit") { Description = "How many, 1 to 100", DefaultValueFactory = _ => 20 };
        var list = new Command("list", "Recent jobs, newest first") { statusFilter, search, offset, limit };
        list.SetAction((p, ct) => session(p).RunAsync(s => s.ListAsync(new JobListQuery
        {
            Status = p.GetValue(statusFilter), Search = p.GetValue(search), Offset = p.GetValue(offset), Limit = p.GetValue(limit),
        }, ct)));
        jobs.Subcommands.Add(list);

        var cancel = new Command("cancel", "Cancels a queued or running job") { id };
        cancel.SetAction((p, ct) => session(p).RunAsync(s => s.CancelAsync(p.GetValue(id), ct)));
        jobs.Subcommands.Add(cancel);

        var results = new Command("results", "A job's results: to --out as a file (finished jobs), or as CSV (JSON Lines with --json) on stdout") { id, output, format };
        results.SetAction((p, ct) => session(p).RunAsync(s => s.ResultsAsync(p.GetValue(id), p.GetValue(output), p.GetValue(format), ct)));
        jobs.Subcommands.Add(results);

        var delete = new Command("delete", "Removes a job and its results") { id };
        delete.SetAction((p, ct) => session(p).RunAsync(s => s.DeleteAsync(p.GetValue(id), ct)));
        jobs.Subcommands.Add(delete);
        return jobs;
    }
}
