namespace FlightDelay.Processing.Jobs;

/// <summary>Names this host in the chunks it leases or scores whole (a small job in the API): machine, process and a per-host suffix.</summary>
public sealed class WorkerIdentity
{
    public string Id { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..6]}";
}
