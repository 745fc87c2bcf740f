using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlightDelay.Client;
using FlightDelay.Contracts;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FlightDelay.Cli;

/// <summary>
/// Follows a job to its end: a live progress bar on a terminal, a line per second of progress otherwise, nothing with
/// --json. Ctrl+C while waiting asks (on a terminal) whether to cancel the job or stop waiting; without a terminal it
/// stops waiting, prints the job id and exits <see cref="ExitCodes.Interrupted"/>. A second Ctrl+C at the question ends
/// the tool at once.
/// </summary>
internal sealed class Waiter(Session session)
{
    private readonly object _gate = new();
    private CancellationTokenSource? _waiting;
    private bool _asking;

    /// <returns>The finished job, or null and the exit code when the wait ended otherwise.</returns>
    public async Task<(JobView? Job, int Exit)> WaitAsync(JobView job, CancellationToken cancellationToken)
    {
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnInterrupt);
        var last = job;
        while (true)
        {
            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lock (_gate) _waiting = waiting;
            try
            {
                return (await FollowAsync(last, p => last = p.Job, waiting.Token), 0);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C.
            }
            finally
            {
                lock (_gate) _waiting = null;
            }

            if (!session.Interactive)
                return (null, StopWaiting(last));

            lock (_gate) _asking = true;
            string choice;
            try
            {
                choice = await session.Out.PromptAsync(new SelectionPrompt<string>()
                    .Title($"Stop following job [bold]{last.Id}[/] ({last.Status}, {last.Progress.ToString("P0", CultureInfo.InvariantCulture)})?")
                    .AddChoices(CancelJob, StopOnly, KeepWaiting), cancellationToken);
            }
            finally
            {
                lock (_gate) _asking = false;
            }
            if (choice == StopOnly) return (null, StopWaiting(last));
            if (choice == CancelJob)
            {
                try
                {
                    return (await session.Client.CancelAsync(last.Id, cancellationToken), 0);
                }
                catch (FlightDelayApiException ex) when (ex.StatusCode == 409)
                {
                    // It finished meanwhile: report how.
                    return (await session.Client.GetJobAsync(last.Id, cancellationToken), 0);
                }
            }
        }
    }

    private const string CancelJob = "Cancel the job on the service";
    private const string StopOnly = "Stop waiting (the job goes on)";
    private const string KeepWaiting = "Keep waiting";

    private void OnInterrupt(PosixSignalContext context)
    {
        lock (_gate)
        {
            if (_asking || _waiting is null)
                return; // a second Ctrl+C at the question, or one outside a wait: the default, which ends the process
            context.Cancel = true;
            _waiting.Cancel();
        }
    }

    private int StopWaiting(JobView job)
    {
        if (session.Json)
            Console.Out.WriteLine(JsonSerializer.Serialize(new { id = job.Id, status = job.Status, interrupted = true }, Session.JsonOut));
        else
            Console.Out.WriteLine($"stopped waiting; job {job.Id} is still {job.Status}: flightdelay jobs wait {job.Id}");
        return ExitCodes.Interrupted;
    }

    private async Task<JobView> FollowAsync(JobView job, Action<JobProgress> seen, CancellationToken cancellationToken)
    {
        if (session.Json)
            return await session.Client.WaitAsync(job.Id, new Inline<JobProgress>(seen), cancellationToken);
        if (!session.Terminal)
            return await session.Client.WaitAsync(job.Id, new Inline<JobProgress>(p =>
            {
                seen(p);
                PlainLine(p);
            }), cancellationToken);

        var stats = new Stats();
        JobView? final = null;
        await session.Out.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RowsColumn(stats), new RateColumn(stats), new LeftColumn(stats), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(job.Name ?? job.Id.ToString()[..8]), maxValue: Math.Max(1, job.TotalRows));
                final = await session.Client.WaitAsync(job.Id, new Inline<JobProgress>(p =>
                {
                    seen(p);
                    stats.Latest = p;
                    task.Value = p.RowsDone;
                }), cancellationToken);
                task.StopTask();
            });
        return final!;
    }

    private DateTime _lastLine;
    private string? _lastStatus;

    /// <summary>Without a terminal: a line when the status changes, and at most one a second while rows move.</summary>
    private void PlainLine(JobProgress p)
    {
        var now = DateTime.UtcNow;
        if (p.Job.Status == _lastStatus && !p.Job.IsFinal && now - _lastLine < TimeSpan.FromSeconds(1)) return;
        _lastLine = now;
        _lastStatus = p.Job.Status;
        var rate = p.RowsPerSecond is { } r ? FormattableString.Invariant($", {r:N0} rows/s") : "";
        var left = p.Remaining is { } t && !p.Job.IsFinal ? $", {Left(t)} left" : "";
        Console.Out.WriteLine(FormattableString.Invariant($"job {p.Job.Id} {p.Job.Status}: {p.RowsDone:N0}/{p.TotalRows:N0} rows ({p.Fraction * 100:0.0}%){rate}{left}"));
    }

    internal static string Left(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes:00}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds:00}s" : $"{Math.Ceiling(t.TotalSeconds):0}s";

    private sealed class Stats
    {
        public volatile JobProgress? Latest;
    }

    private sealed class RowsColumn(Stats stats) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(stats.Latest is { } p ? FormattableString.Invariant($"{p.RowsDone:N0}/{p.TotalRows:N0} rows") : "waiting", new Style(Color.Grey));
    }

    private sealed class RateColumn(Stats stats) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(stats.Latest?.RowsPerSecond is { } r ? FormattableString.Invariant($"{r:N0} rows/s") : "- rows/s");
    }

    private sealed class LeftColumn(Stats stats) : ProgressColumn
    {
        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            new Text(stats.Latest is { Remaining: { } t, Job.IsFinal: false } ? $"{Left(t)} left" : stats.Latest?.Job.Status ?? "", new Style(Color.Blue));
    }
}
