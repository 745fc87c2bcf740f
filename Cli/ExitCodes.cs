namespace FlightDelay.Cli;

/// <summary>What <c>flightdelay</c> exits with (README "Exit codes"): scripts branch on these.</summary>
public static class ExitCodes
{
    /// <summary>Done; a waited-for job succeeded.</summary>
    public const int Succeeded = 0;

    /// <summary>The job failed (its error is printed).</summary>
    public const int JobFailed = 1;

    /// <summary>Invalid input: bad arguments, a missing or unknown file, or a 4xx answer (the problem is printed).</summary>
    public const int InvalidInput = 2;

    /// <summary>The job was canceled (by this command after Ctrl+C, or by someone else).</summary>
    public const int JobCanceled = 3;

    /// <summary>The service could not be reached (refused, unknown host, broken connection) or kept answering 5xx after the retries.</summary>
    public const int Unreachable = 4;

    /// <summary>Interrupted (Ctrl+C, SIGINT) while waiting: the job goes on; its id is printed.</summary>
    public const int Interrupted = 130;

    /// <summary>A bug in the tool: an error it did not expect.</summary>
    public const int InternalError = 70;
}
