namespace FlightDelay.Client;

/// <summary>Where the service is, how to authenticate, and how patiently to retry and poll.</summary>
public sealed class FlightDelayClientOptions
{
    /// <summary>The embedded service's address when it runs with <c>dotnet run --project Api</c>.</summary>
    public static readonly Uri DefaultBaseAddress = new("http://localhost:5080/");

    /// <summary>The service's base address (scheme, host, port; a path prefix ending in <c>/</c> is kept). Default <see cref="DefaultBaseAddress"/>.</summary>
    public Uri BaseAddress { get; set; } = DefaultBaseAddress;

    /// <summary>The API key, sent as <c>X-Api-Key</c> on every request when set (a service with keys configured answers <c>401</c> without one).</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How many times a failed request that is safe to repeat is sent again (default 4; 0 turns retries off). Safe are
    /// GET, HEAD, DELETE, predictions (which change nothing) and job submissions, which always carry an
    /// <c>Idempotency-Key</c>. Retried: connection failures, <c>408</c>, <c>429</c>, <c>5xx</c>, and a submission's
    /// <c>409</c> "still uploading" that carries <c>Retry-After</c>.
    /// </summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>The first retry's delay, doubled for each further one, with jitter (default 500 ms). A <c>Retry-After</c> answer waits what it says instead.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How long <see cref="FlightDelayClient.WaitAsync"/> asks the service to hold a status request open until the job
    /// changes (<c>Prefer: wait=N</c>, RFC 7240; whole seconds, default 20 s).
    /// </summary>
    public TimeSpan LongPollWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// When the service does not hold status requests open (no <c>Preference-Applied</c> in its answer): the first poll
    /// interval (default 250 ms), grown by half for each answer that shows no progress, up to <see cref="MaxPollInterval"/>.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest wait between two status polls (default 2 s).</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>User-Agent</c> product token (default <c>FlightDelay.Client/{version}</c>).</summary>
    public string? UserAgent { get; set; }
}
