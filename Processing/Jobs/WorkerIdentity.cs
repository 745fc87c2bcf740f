namespace FlightDelay.Processing.Jobs;

/// <summary>Names this consumer host in the chunks it leases: machine, process and a per-host suffix.</summary>
public sealed class WorkerIdentity
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..6]}";
}
