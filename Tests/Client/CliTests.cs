using System.Text.Json;
using System.Text.RegularExpressions;
using FlightDelay.Cli;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Client;

/// <summary>
/// The flightdelay tool as a process against the real API: plain lines without a terminal, a live bar in one (tmux),
/// --json for scripts, its exit codes, and Ctrl+C while it waits.
/// </summary>
public sealed partial class CliTests(CliFixture api) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task Without_a_terminal_it_prints_progress_lines_and_downloads_the_results()
    {
        var csv = await api.CsvAsync("plain.csv", 3_000);

        var cli = await api.RunAsync("jobs", "submit", csv, "--wait", "--out", "plain-results.jsonl");

        Assert.True(cli.ExitCode == ExitCodes.Succeeded, cli.StandardError);
        var lines = cli.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^job [0-9a-f-]{36} submitted: 3,000 rows$", lines[0]);
        Assert.Contains(lines, l => ProgressLine().IsMatch(l));
        Assert.Contains(lines, l => l.Contains("succeeded: 3,000 of 3,000 rows scored", StringComparison.Ordinal));
        Assert.DoesNotContain('\u001b', cli.StandardOutput);
        var results = await File.ReadAllLinesAsync(Path.Combine(api.Folder, "plain-results.jsonl"));
        Assert.Equal(3_000, results.Length);
        Assert.Equal(1, JsonDocument.Parse(results[0]).RootElement.GetProperty("row").GetInt32());
    }

    [Fact]
    public async Task With_json_it_prints_one_document_for_scripts()
    {
        var csv = await api.CsvAsync("scripted.csv", 1_000);

        var cli = await api.RunAsync("--json", "jobs", "submit", csv, "--wait", "--name", "nightly run");
        var predicted = await api.RunAsync("predict", "--airline", "Grupo LATAM", "--type", "I", "--month", "7", "--json");

        Assert.Equal(ExitCodes.Succeeded, cli.ExitCode);
        var job = JsonDocument.Parse(cli.StandardOutput).RootElement;
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
        Assert.Equal("nightly run", job.GetProperty("name").GetString());
        Assert.Equal(1_000, job.GetProperty("processedRows").GetInt32());
        Assert.True(JsonDocument.Parse(predicted.StandardOutput).RootElement.GetProperty("predictions")[0].GetProperty("delayed").GetBoolean());
    }

    [Fact]
    public async Task Exit_codes_tell_invalid_input_unreachable_canceled_and_success_apart()
    {
        var dirty = Path.Combine(api.Folder, "dirty.csv");
        await File.WriteAllTextAsync(dirty, "airline,flightType,month\nPan Am,I,3\n");
        // Submitted and canceled at once over HTTP (the tool's start-up could let the job finish first).
        // A million rows in 500-row chunks, one at a time: the job is still running when its 202 comes, though chunks
        // are scored while the upload streams.
        var id = (await api.Http.SubmitAsync(JobApi.Csv(JobApi.Flights(1_000_000)))).ToString();
        Assert.Equal(System.Net.HttpStatusCode.OK, (await api.Http.PostAsync($"/v1/jobs/{id}/cancel", null)).StatusCode);
        var status = await api.RunAsync("jobs", "status", id);

        var badArguments = await api.RunAsync("jobs", "submit");
        var notAFlightFile = await api.RunAsync("jobs", "submit", "notes.txt");
        var refused = await api.RunAsync("jobs", "submit", dirty);
        var unknownJob = await api.RunAsync("jobs", "status", Guid.CreateVersion7().ToString());
        var wrongCount = await api.RunAsync("predict", "1", "0", "1");
        var unreachable = await api.RunAsync("--url", "http://127.0.0.1:9", "model", "show");
        var waitCanceled = await api.RunAsync("jobs", "wait", id);
        var model = await api.RunAsync("model", "show");

        Assert.Equal(ExitCodes.Succeeded, status.ExitCode);
        Assert.Contains($"job {id} canceled", status.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, badArguments.ExitCode);
        Assert.Equal(ExitCodes.InvalidInput, notAFlightFile.ExitCode);
        Assert.Equal(ExitCodes.InvalidInput, refused.ExitCode);
        Assert.Contains("Pan Am", refused.StandardError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, unknownJob.ExitCode);
        Assert.Contains("404", unknownJob.StandardError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.InvalidInput, wrongCount.ExitCode);
        Assert.Equal(ExitCodes.Unreachable, unreachable.ExitCode);
        Assert.Contains("cannot reach the service at http://127.0.0.1:9/", unreachable.StandardError, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.JobCanceled, waitCanceled.ExitCode);
        Assert.Contains(" canceled: ", waitCanceled.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Succeeded, model.ExitCode);
        Assert.Matches(@"model +m-[0-9a-f]{12}", model.StandardOutput);
    }

    [Fact]
    public async Task Ctrl_C_without_a_terminal_stops_waiting_prints_the_id_and_leaves_the_job_running()
    {
        var csv = await api.CsvAsync("interrupted.csv", 1_000_000);
        await using var cli = api.Start("jobs", "submit", csv, "--wait");
        var submitted = await Poll.UntilAsync(() => Task.FromResult(cli.StandardOutput), o => o.Contains(" submitted: ", StringComparison.Ordinal),
            JobApi.Deadline, "the tool to submit the job");
        var id = Guid.Parse(JobId().Match(submitted).Groups[1].Value);

        int exit;
        api.Api.Pause(); // the job cannot finish before the interrupt arrives
        try
        {
            cli.Interrupt();
            exit = await cli.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            api.Api.Resume();
        }

        Assert.Equal(ExitCodes.Interrupted, exit);
        Assert.Contains($"stopped waiting; job {id} is still ", cli.StandardOutput, StringComparison.Ordinal);
        var job = await Poll.UntilAsync(() => api.JobAsync(id), j => j.GetProperty("status").GetString() is "succeeded" or "failed" or "canceled",
            JobApi.Deadline, "the job to go on to its end");
        Assert.Equal("succeeded", job.GetProperty("status").GetString());
    }

    [Fact]
    public async Task In_a_terminal_it_shows_a_live_bar_and_Ctrl_C_asks_before_canceling_the_job()
    {
        var csv = await api.CsvAsync("terminal.csv", 1_000_000);
        using var terminal = new Tmux($"FLIGHTDELAY_URL={api.Api.BaseAddress} dotnet {CliFixture.CliDll} jobs submit {csv} --wait; echo EXIT=$?; sleep 60");

        var screen = await terminal.UntilAsync(s => s.Contains("/1,000,000 rows", StringComparison.Ordinal), "the progress bar");
        var id = Guid.Parse(JobId().Match(screen).Groups[1].Value);
        // The API stands still from here until the answer is given, so the job is still running when it is canceled.
        api.Api.Pause();
        try
        {
            var bar = terminal.Screen(escapes: true);
            Assert.Contains("\u001b[", bar, StringComparison.Ordinal); // colours and cursor moves: a terminal, not plain lines
            Assert.Contains("━", bar, StringComparison.Ordinal);
            Assert.Contains("rows/s", bar, StringComparison.Ordinal);
            Assert.DoesNotMatch(ProgressLine(), terminal.Screen());
            terminal.Keys("C-c");
            await terminal.UntilAsync(s => s.Contains("Stop following job", StringComparison.Ordinal) && s.Contains("Cancel the job on the service", StringComparison.Ordinal),
                "the question after Ctrl+C");
            terminal.Keys("Enter"); // the first choice: cancel the job
        }
        finally
        {
            api.Api.Resume();
        }

        screen = await terminal.UntilAsync(s => s.Contains("EXIT=", StringComparison.Ordinal), "the tool to end");
        Assert.True(screen.Contains($"EXIT={ExitCodes.JobCanceled}", StringComparison.Ordinal) && screen.Contains($"job {id} canceled", StringComparison.Ordinal), screen);
        Assert.Equal("canceled", (await api.JobAsync(id)).GetProperty("status").GetString());
    }

    [GeneratedRegex(@"^job [0-9a-f-]{36} (queued|running|succeeded): [\d,]+/[\d,]+ rows \(\d+\.\d%\)")]
    private static partial Regex ProgressLine();

    [GeneratedRegex(@"job ([0-9a-f-]{36}) submitted")]
    private static partial Regex JobId();
}
