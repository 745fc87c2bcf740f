using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Faults;

/// <summary>How long and how hard a soak runs; the seed makes the job sizes and the fault schedule reproducible.</summary>
public sealed record ChaosSettings(int Seed, TimeSpan Duration, int Workers = 3, int Clients = 3, double FaultsPerMinute = 10, int MaxRows = 300_000)
{
    /// <summary>
    /// The short form unless <c>FLIGHTDELAY_CHAOS_SEED</c>, <c>FLIGHTDELAY_CHAOS_MINUTES</c> or
    /// <c>FLIGHTDELAY_CHAOS_FAULTS_PER_MINUTE</c> say otherwise (a failing seed is replayed by setting it).
    /// </summary>
    public static ChaosSettings FromEnvironment(TimeSpan shortDuration)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FLIGHTDELAY_CHAOS_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next(1, 1_000_000);
        var duration = double.TryParse(Environment.GetEnvironmentVariable("FLIGHTDELAY_CHAOS_MINUTES"), CultureInfo.InvariantCulture, out var m) ? TimeSpan.FromMinutes(m) : shortDuration;
        var rate = double.TryParse(Environment.GetEnvironmentVariable("FLIGHTDELAY_CHAOS_FAULTS_PER_MINUTE"), CultureInfo.InvariantCulture, out var f) ? f : 10;
        return new ChaosSettings(seed, duration, FaultsPerMinute: rate);
    }
}

/// <summary>
/// A chaos soak: the API and several workers as child processes against the fault suite's own PostgreSQL and RabbitMQ
/// (<see cref="FaultServices"/>), clients submitting jobs of mixed sizes with idempotency keys and retrying on connection
/// errors and 5xx with the same key, some with callbacks to a loopback receiver, some canceled; meanwhile a seeded
/// schedule of faults, overlapping: worker SIGKILL, worker SIGSTOP past its lease then SIGCONT, API SIGKILL and restart,
/// RabbitMQ restart, PostgreSQL restart. Then everything heals and <see cref="ChaosChecker"/> judges the database.
/// </summary>
public sealed class ChaosSoak(FaultServices services, ChaosSettings settings, Action<string> log) : IAsyncDisposable
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan DrainDeadline = TimeSpan.FromMinutes(4);

    private readonly List<ChildProcess> _all = [];
    private readonly List<ChildProcess> _workers = [];
    private readonly ConcurrentQueue<string> _faults = new();
    private readonly ConcurrentBag<ChaosSubmission> _submissions = [];
    private readonly SemaphoreSlim _services = new(1, 1);
    private readonly Stopwatch _clock = new();
    private Dictionary<string, string> _config = null!;
    private ChildProcess _api = null!;
    private string _database = "";
    private CallbackReceiver _receiver = null!;

    public IReadOnlyCollection<string> Faults => _faults;

    public async Task<ChaosVerdict> RunAsync()
    {
        _receiver = await CallbackReceiver.StartAsync();
        (_database, var connectionString) = await TestDatabases.CreateAsync(services.Postgres, "fd_chaos");
        _config = new Dictionary<string, string>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["ConnectionStrings:RabbitMq"] = services.RabbitMq,
            ["Jobs:QueueName"] = $"score-chunk-{_database}",
            ["Jobs:ChunkSize"] = "5000",
            ["Jobs:ConcurrentChunks"] = "1",
            ["Jobs:LeaseDuration"] = Lease.ToString(),
            ["Jobs:StallTimeout"] = "00:00:05",
            ["Jobs:SweepInterval"] = "00:00:01",
            ["Jobs:RetryBackoff"] = "00:00:01",
            // Faults are not poison: every attempt a fault costs is still short of this.
            ["Jobs:MaxAttempts"] = "20",
            ["Jobs:MaxUploadDuration"] = "00:00:20",
            ["Jobs:RetentionSweepInterval"] = "00:00:02",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in CallbackReceiver.Settings(maxAttempts: 100)) _config[key] = value!;

        await StartApiAsync(waitReady: true);
        for (var i = 0; i < settings.Workers; i++) await StartWorkerAsync(waitReady: true);
        log($"chaos soak: seed {settings.Seed}, {settings.Duration.TotalMinutes:0.##} min, {settings.Workers} workers, {settings.Clients} clients, database {_database}");

        _clock.Start();
        using var faultPhase = new CancellationTokenSource(settings.Duration);
        var clients = Enumerable.Range(0, settings.Clients).Select(c => ClientAsync(c, faultPhase.Token)).ToList();
        var faults = await ScheduleFaultsAsync(faultPhase.Token);
        await Task.WhenAll(faults);
        await HealAsync();
        log($"[{Elapsed}] faults over ({_faults.Count}); healed; draining");
        await Task.WhenAll(clients);

        var drained = await DrainAsync(connectionString);
        log($"[{Elapsed}] drained: {drained}");
        var verdict = await ChaosChecker.CheckAsync(connectionString, [.. _submissions], _receiver.Received, CallbackReceiver.SigningKey, Lease);
        log($"chaos soak seed {settings.Seed}: faults {_faults.Count} ({string.Join(", ", _faults.Select(f => f.Split(' ')[1]).GroupBy(k => k).Select(g => $"{g.Key} {g.Count()}"))}), {verdict.Summary}");
        return verdict;
    }

    private string Elapsed => _clock.Elapsed.ToString(@"mm\:ss", CultureInfo.InvariantCulture);

    // ─── faults ──────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>Fires faults at seeded random times without waiting for the previous ones to end, so they overlap.</summary>
    private async Task<List<Task>> ScheduleFaultsAsync(CancellationToken phase)
    {
        var random = new Random(settings.Seed);
        var running = new List<Task>();
        var meanGap = TimeSpan.FromMinutes(1 / settings.FaultsPerMinute);
        var at = TimeSpan.FromSeconds(5);
        while (true)
        {
            at += meanGap * (0.3 + 1.4 * random.NextDouble());
            if (at >= settings.Duration - TimeSpan.FromSeconds(5)) break;
            var kind = random.Next(100) switch
            {
                < 25 => "worker-kill",
                < 50 => "worker-pause",
                < 66 => "api-kill",
                < 83 => "rabbitmq-restart",
                _ => "postgres-restart",
            };
            var pause = Lease + TimeSpan.FromSeconds(1 + 6 * random.NextDouble());
            var victim = random.Next(settings.Workers);
            try { await Task.Delay(at - _clock.Elapsed, phase); }
            catch (ArgumentOutOfRangeException) { }
            catch (OperationCanceledException) { break; }
            running.Add(InjectAsync(kind, victim, pause));
        }
        return running;
    }

    private async Task InjectAsync(string kind, int victim, TimeSpan pause)
    {
        _faults.Enqueue($"{Elapsed} {kind}");
        log($"[{Elapsed}] fault {kind}{(kind == "worker-pause" ? $" for {pause.TotalSeconds:0.0}s" : "")}");
        try
        {
            switch (kind)
            {
                case "worker-kill":
                    {
                        var worker = Worker(victim);
                        worker.Kill();
                        lock (_workers) _workers.Remove(worker);
                        await StartWorkerAsync(waitReady: false);
                        break;
                    }
                case "worker-pause":
                    {
                        // Longer than its lease: it wakes up holding a lease another worker may have taken over.
                        var worker = Worker(victim);
                        worker.Pause();
                        await Task.Delay(pause);
                        worker.Resume();
                        break;
                    }
                case "api-kill":
                    _api.Kill();
                    await StartApiAsync(waitReady: false);
                    break;
                case "rabbitmq-restart":
                case "postgres-restart":
                    // local-services.sh serializes its commands on one lock; one restart at a time here too.
                    await _services.WaitAsync();
                    try { await services.RunAsync(kind == "rabbitmq-restart" ? "restart-rabbitmq" : "restart-postgres"); }
                    finally { _services.Release(); }
                    break;
            }
        }
        catch (Exception ex)
        {
            log($"[{Elapsed}] fault {kind} could not be injected: {ex.Message}");
        }
    }

    private ChildProcess Worker(int index)
    {
        lock (_workers) return _workers[index % _workers.Count];
    }

    /// <summary>Everything back: paused workers woken, services up, the full count of workers running and ready.</summary>
    private async Task HealAsync()
    {
        lock (_workers) foreach (var worker in _workers) worker.Resume();
        await services.RunAsync("start");
        List<ChildProcess> workers;
        lock (_workers) workers = [.. _workers];
        foreach (var dead in workers.Where(w => w.HasExited))
        {
            lock (_workers) _workers.Remove(dead);
            await StartWorkerAsync(waitReady: false);
        }
        if (_api.HasExited) await StartApiAsync(waitReady: false);
        await _api.WaitReadyAsync(TimeSpan.FromMinutes(3));
        lock (_workers) workers = [.. _workers];
        foreach (var worker in workers) await worker.WaitReadyAsync(TimeSpan.FromMinutes(3));
    }

    private async Task StartApiAsync(bool waitReady)
    {
        var api = ChildProcess.Start("FlightDelay.Api.dll", new Dictionary<string, string>(_config) { ["Database:MigrateOnStart"] = "true" }, "chaos-api");
        lock (_all) _all.Add(api);
        _api = api;
        if (waitReady) await api.WaitReadyAsync(TimeSpan.FromMinutes(3));
    }

    private async Task StartWorkerAsync(bool waitReady)
    {
        var worker = ChildProcess.Start("FlightDelay.Worker.dll", _config, "chaos-worker");
        lock (_all) _all.Add(worker);
        lock (_workers) _workers.Add(worker);
        if (waitReady) await worker.WaitReadyAsync(TimeSpan.FromMinutes(3));
    }

    // ─── clients ─────────────────────────────────────────────────────────────────────────────────────────

    /// <summary>
    /// Submits one job at a time until the fault phase ends: retries the same key on connection errors, timeouts, 5xx and
    /// "in progress" 409s; sometimes asks for a callback; sometimes cancels; follows the job until it ends.
    /// </summary>
    private async Task ClientAsync(int client, CancellationToken phase)
    {
        var random = new Random(HashCode.Combine(settings.Seed, client));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        for (var n = 0; !phase.IsCancellationRequested; n++)
        {
            // Sizes log-uniform from 100 to MaxRows: mostly small jobs, a few large ones.
            var rows = (int)Math.Round(100 * Math.Pow(settings.MaxRows / 100.0, random.NextDouble()));
            var submission = new ChaosSubmission($"chaos-{settings.Seed}-{client}-{n}", rows, random.Next(), withCallback: random.Next(3) == 0);
            var cancelAfter = random.Next(5) == 0 ? TimeSpan.FromMilliseconds(random.Next(3000)) : (TimeSpan?)null;
            _submissions.Add(submission);
            var csv = JobApi.Csv(JobApi.Flights(rows, submission.FlightSeed));
            var id = await SubmitAsync(http, submission, csv);
            if (id is not { } jobId) continue;
            if (cancelAfter is { } delay)
            {
                await Task.Delay(delay, CancellationToken.None);
                submission.CancelRequested = true;
                await RetryAsync(http, () => new HttpRequestMessage(HttpMethod.Post, $"/v1/jobs/{jobId}/cancel"), s => s is HttpStatusCode.OK or HttpStatusCode.Accepted or HttpStatusCode.Conflict);
            }
            // Follow it to its end (bounded: the drain waits for the rest), so each client has one job in flight.
            var until = DateTime.UtcNow + TimeSpan.FromMinutes(2);
            while (DateTime.UtcNow < until && !phase.IsCancellationRequested)
            {
                var status = await TryStatusAsync(http, jobId);
                if (status is "succeeded" or "failed" or "canceled") break;
                try { await Task.Delay(200, phase); } catch (OperationCanceledException) { }
            }
        }
    }

    private async Task<Guid?> SubmitAsync(HttpClient http, ChaosSubmission submission, string csv)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(150);
        var attempt = 0;
        while (true)
        {
            attempt++;
            string? why;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, $"{_api.BaseAddress}/v1/jobs") { Content = new StringContent(csv, System.Text.Encoding.UTF8, "text/csv") };
                request.Headers.Add("Idempotency-Key", submission.Key);
                if (submission.WithCallback) request.Headers.Add("Callback-Url", _receiver.Url);
                using var response = await http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK)
                {
                    var id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
                    lock (submission) submission.Ids.Add(id);
                    return id;
                }
                // 409 while the key's first request still streams (or died streaming), 5xx, 429: the same request again later.
                if (response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.TooManyRequests || (int)response.StatusCode >= 500)
                    why = $"{(int)response.StatusCode}";
                else
                {
                    submission.GaveUp = $"refused {(int)response.StatusCode}: {body}";
                    log($"[{Elapsed}] {submission.Key} refused: {(int)response.StatusCode} {body}");
                    return null;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                why = ex.GetType().Name;
            }
            if (DateTime.UtcNow > deadline)
            {
                submission.GaveUp = $"still {why} after {attempt} attempts";
                log($"[{Elapsed}] {submission.Key} gave up: {submission.GaveUp}");
                return null;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(300 + Random.Shared.Next(700)));
        }
    }

    private async Task RetryAsync(HttpClient http, Func<HttpRequestMessage> request, Func<HttpStatusCode, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var message = request();
                message.RequestUri = new Uri($"{_api.BaseAddress}{message.RequestUri}");
                using var response = await http.SendAsync(message);
                if (done(response.StatusCode)) return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(500);
        }
    }

    private async Task<string?> TryStatusAsync(HttpClient http, Guid id)
    {
        try
        {
            using var response = await http.GetAsync($"{_api.BaseAddress}/v1/jobs/{id}");
            if (!response.IsSuccessStatusCode) return null;
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>Waits (from the database) until no accepted job is active and no callback is pending.</summary>
    private static async Task<string> DrainAsync(string connectionString)
    {
        try
        {
            await Poll.UntilAsync(async () => Convert.ToInt64(await TestDatabases.ScalarAsync(connectionString, """
            SELECT (SELECT count(*) FROM jobs WHERE status IN ('Queued', 'Running'))
                 + (SELECT count(*) FROM jobs WHERE callback_state = 'Pending')
            """), CultureInfo.InvariantCulture), n => n == 0, DrainDeadline, "every accepted job to end and every callback to be delivered");
            return "every job ended, every callback delivered";
        }
        catch (TimeoutException ex)
        {
            // The checker says which: judge what there is rather than fail without a verdict.
            return ex.Message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<ChildProcess> all;
        lock (_all) all = [.. _all];
        foreach (var process in all) await process.DisposeAsync();
        if (_receiver is not null) await _receiver.DisposeAsync();
        if (_database.Length > 0) await TestDatabases.DropAsync(services.Postgres, _database);
    }
}
