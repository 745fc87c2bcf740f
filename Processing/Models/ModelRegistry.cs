using System.Collections.Concurrent;
using FlightDelay.Persistence;
using FlightDelay.Persistence.Models;
using FlightDelay.Scoring;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FlightDelay.Processing.Models;

/// <summary>
/// The registry's settings, bound from the <c>Model</c> section beside <see cref="ModelOptions"/> but validated apart:
/// a <c>Model:Directory</c> that is briefly wrong must not stop the registry.
/// </summary>
public sealed class ModelRegistryOptions
{
    /// <summary>
    /// How often each process reads the registry's roles, so that a promotion made through any API process reaches
    /// every process within about this long (the promoting process switches at once).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan RolePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How far below the champion's test ROC AUC a version's may be and still be promoted without <c>force</c>
    /// (absolute, in AUC units: 0.01 allows 0.70 against 0.71).
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 1.0)]
    public double PromotionTolerance { get; set; } = 0.01;

    /// <summary>
    /// The share of synchronous requests (0 to 1) the challenger also scores, off the request's path, counted in the
    /// <c>flightdelay.model.shadow.*</c> metrics; job chunks are always all scored. 0 turns the sync sample off.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0.0, 1.0)]
    public double ShadowSampleRate { get; set; } = 0.01;

    /// <summary>How often the API measures the champion's and challenger's live quality for <c>/metrics</c> (<see cref="QualityMonitor"/>).</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan QualityInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The trailing window those live figures cover: rows scored in it whose outcome was reported.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "01:00:00", "90.00:00:00")]
    public TimeSpan QualityWindow { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>A registered model version as the registry describes it: its card and role, without its bytes.</summary>
/// <param name="Version"><c>m-</c> and 12 hex digits.</param>
/// <param name="Source"><c>folder</c>, <c>train</c> or <c>upload</c>: how it entered the registry.</param>
/// <param name="Role"><c>champion</c>, <c>challenger</c>, or null (a candidate).</param>
/// <param name="RegisteredAt">When it entered the registry, UTC.</param>
/// <param name="RoleChangedAt">When its role last changed, UTC; null if it never held one.</param>
/// <param name="Card">Its model card: algorithm, training date, test metrics, calibration, training statistics.</param>
public sealed record ModelEntry(string Version, string Source, string? Role, DateTime RegisteredAt, DateTime? RoleChangedAt, ModelCard Card);

/// <summary>How a promotion ended.</summary>
public enum PromoteResult
{
    /// <summary>The version is the champion now; the one before it holds no role.</summary>
    Promoted,

    /// <summary>It was the champion already: nothing changed.</summary>
    AlreadyChampion,

    /// <summary>No such version in the registry.</summary>
    NotFound,

    /// <summary>Refused by the gate: its test ROC AUC is more than <see cref="ModelRegistryOptions.PromotionTolerance"/> below the champion's.</summary>
    BelowChampion,
}

/// <summary>How a challenger change ended.</summary>
public enum RoleChangeResult
{
    /// <summary>The version holds the new role.</summary>
    Changed,

    /// <summary>It held it already.</summary>
    Unchanged,

    /// <summary>No such version in the registry.</summary>
    NotFound,

    /// <summary>It is the champion, whose role only a promotion of another version takes.</summary>
    IsChampion,
}

/// <summary>A challenger change's result and the version as it stands.</summary>
public sealed record RoleChange(RoleChangeResult Result, ModelEntry? Model);

/// <summary>A promotion's result, with the figures the gate compared (test ROC AUC of each; the champion's null when there was none).</summary>
public sealed record PromoteOutcome(PromoteResult Result, ModelEntry? Model, string? Champion, double? ChampionRocAuc, double Tolerance);

/// <summary>
/// The model registry every API and worker process shares: the <c>model_versions</c> table of the jobs database
/// (PostgreSQL, or the embedded SQLite file) holds each version's <c>model.zip</c> and card, and which version is the
/// champion. Versions are loaded on demand and cached for the life of the process; the champion is served through
/// <see cref="CurrentModel"/>, which <see cref="RoleSync"/> switches when another process promotes. The model in
/// <c>Model:Directory</c> is registered at start and becomes champion when it is new to the registry or there is no
/// champion yet; a model that hot reload brings into that folder is registered and made champion: replacing the files
/// is the operator's explicit deployment. Otherwise only a promotion changes the champion.
/// </summary>
public sealed class ModelRegistry : IModelDeployment, IDisposable
{
    private readonly CurrentModel _current;
    private volatile FlightModel _folderModel;
    private readonly IServiceScopeFactory _scopes;
    private readonly IOptionsMonitor<ModelRegistryOptions> _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<ModelRegistry> _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<FlightModel?>>> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _registered = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _roles = new(1, 1);
    private readonly SemaphoreSlim _deploys = new(1, 1);
    private volatile string? _championSeen;
    private volatile bool _seeded;

    public ModelRegistry(CurrentModel current, IServiceScopeFactory scopes, IOptionsMonitor<ModelRegistryOptions> options, TimeProvider clock, ILogger<ModelRegistry> logger)
    {
        _current = current;
        _folderModel = current.Model;
        _scopes = scopes;
        _options = options;
        _clock = clock;
        _logger = logger;
        Cache(_folderModel);
    }

    /// <summary>
    /// The version loaded and ready to score, from this process's cache or read from the registry; null when the
    /// registry has no such version.
    /// </summary>
    public ValueTask<FlightModel?> FindAsync(string version, CancellationToken cancellationToken)
    {
        var serving = _current.Model;
        if (serving.Version == version) return ValueTask.FromResult<FlightModel?>(serving);
        if (_models.TryGetValue(version, out var cached) && cached.IsValueCreated && cached.Value.IsCompletedSuccessfully && cached.Value.Result is { } model)
            return ValueTask.FromResult<FlightModel?>(model);
        return new ValueTask<FlightModel?>(LoadAsync(version, cancellationToken));
    }

    private async Task<FlightModel?> LoadAsync(string version, CancellationToken cancellationToken)
    {
        var load = _models.GetOrAdd(version, v => new Lazy<Task<FlightModel?>>(() => ReadAsync(v)));
        try
        {
            var model = await load.Value.WaitAsync(cancellationToken);
            // Not cached as missing: the version may be registered a moment later.
            if (model is null) _models.TryRemove(new KeyValuePair<string, Lazy<Task<FlightModel?>>>(version, load));
            return model;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _models.TryRemove(new KeyValuePair<string, Lazy<Task<FlightModel?>>>(version, load));
            throw;
        }
    }

    private async Task<FlightModel?> ReadAsync(string version)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var row = await db.Models.AsNoTracking().Where(m => m.Version == version).Select(m => new { m.Model, m.Card }).SingleOrDefaultAsync();
        if (row is null) return null;
        var model = FlightModel.Load(row.Model, ModelCard.Parse(row.Card), $"registered model {version}");
        _logger.LogInformation("Loaded model {Version} ({Algorithm}) from the registry", version, model.Card.Algorithm);
        return model;
    }

    private void Cache(FlightModel model) =>
        _models.TryAdd(model.Version, new Lazy<Task<FlightModel?>>(Task.FromResult<FlightModel?>(model)));

    /// <summary>Every registered version, newest registration first.</summary>
    public async Task<IReadOnlyList<ModelEntry>> ListAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        var rows = await db.Models.AsNoTracking().OrderByDescending(m => m.RegisteredAt).ThenBy(m => m.Version)
            .Select(m => new { m.Version, m.Source, m.Role, m.RegisteredAt, m.RoleChangedAt, m.Card })
            .ToListAsync(cancellationToken);
        return [.. rows.Select(m => new ModelEntry(m.Version, m.Source, m.Role, m.RegisteredAt, m.RoleChangedAt, ModelCard.Parse(m.Card)))];
    }

    /// <summary>One registered version; null when there is none such.</summary>
    public async Task<ModelEntry?> GetAsync(string version, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        return await GetAsync(scope.ServiceProvider.GetRequiredService<JobsDbContext>(), version, cancellationToken);
    }

    private static async Task<ModelEntry?> GetAsync(JobsDbContext db, string version, CancellationToken cancellationToken)
    {
        var m = await db.Models.AsNoTracking().Where(m => m.Version == version)
            .Select(m => new { m.Version, m.Source, m.Role, m.RegisteredAt, m.RoleChangedAt, m.Card })
            .SingleOrDefaultAsync(cancellationToken);
        return m is null ? null : new ModelEntry(m.Version, m.Source, m.Role, m.RegisteredAt, m.RoleChangedAt, ModelCard.Parse(m.Card));
    }

    /// <summary>The registered versions' ids, for an error that lists them.</summary>
    public async Task<IReadOnlyList<string>> VersionsAsync(CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
        return await db.Models.AsNoTracking().OrderByDescending(m => m.RegisteredAt).Select(m => m.Version).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Adds <paramref name="model"/> to the registry as a candidate (no role) unless it is there already; true when
    /// it was added. <paramref name="source"/> is <c>folder</c>, <c>train</c> or <c>upload</c>.
    /// </summary>
    public async Task<bool> RegisterAsync(FlightModel model, string source, CancellationToken cancellationToken)
    {
        if (_registered.ContainsKey(model.Version)) return false;
        await using var scope = _scopes.CreateAsyncScope();
        var added = await RegisterAsync(scope.ServiceProvider.GetRequiredService<JobsDbContext>(), model, source, _clock.GetUtcNow().UtcDateTime, cancellationToken);
        if (added)
            _logger.LogInformation("Registered model {Version} ({Algorithm}, test ROC AUC {RocAuc}) from {Source}",
                model.Version, model.Card.Algorithm, model.Card.Metrics.RocAuc, source);
        _registered[model.Version] = true;
        Cache(model);
        return added;
    }

    /// <summary>
    /// Inserts <paramref name="model"/> (bytes and card) as a candidate unless its version is there already; true when
    /// it was added. For a process without the registry service (<c>Worker train</c>).
    /// </summary>
    public static async Task<bool> RegisterAsync(JobsDbContext db, FlightModel model, string source, DateTime now, CancellationToken cancellationToken)
    {
        if (await db.Models.AnyAsync(m => m.Version == model.Version, cancellationToken)) return false;
        db.Models.Add(new RegisteredModel
        {
            Version = model.Version,
            Algorithm = model.Card.Algorithm,
            TrainedAt = model.Card.TrainedAt.UtcDateTime,
            RegisteredAt = now,
            Source = source,
            Card = model.Card.ToJson(),
            Model = model.Bytes,
        });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (DatabaseErrors.IsUniqueViolation(ex))
        {
            // Another process registered the same bytes a moment before.
            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// The model a new job is pinned to: <paramref name="requested"/> when given, else the champion this process
    /// serves (registered first if the database was out of reach when the process started). Null when the requested
    /// version is not registered.
    /// </summary>
    public async Task<FlightModel?> PinAsync(string? requested, CancellationToken cancellationToken)
    {
        if (requested is not null) return await FindAsync(requested, cancellationToken);
        var champion = _current.Model;
        await RegisterAsync(champion, "folder", cancellationToken);
        return champion;
    }

    /// <summary>
    /// Makes <paramref name="version"/> the champion, in the registry and at once in this process (the others follow
    /// within <see cref="ModelRegistryOptions.RolePollInterval"/>). Unless <paramref name="force"/>, refuses a version whose
    /// test ROC AUC is more than <see cref="ModelRegistryOptions.PromotionTolerance"/> below the champion's. Concurrent
    /// promotions are serialized by the role's unique index: the loser tries again against the new champion.
    /// </summary>
    public async Task<PromoteOutcome> PromoteAsync(string version, bool force, CancellationToken cancellationToken)
    {
        await _roles.WaitAsync(cancellationToken);
        try
        {
            return await PromoteLockedAsync(version, force, cancellationToken);
        }
        finally
        {
            _roles.Release();
        }
    }

    private async Task<PromoteOutcome> PromoteLockedAsync(string version, bool force, CancellationToken cancellationToken)
    {
        var tolerance = _options.CurrentValue.PromotionTolerance;
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            try
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                if (await GetAsync(db, version, cancellationToken) is not { } target)
                    return new PromoteOutcome(PromoteResult.NotFound, null, null, null, tolerance);
                var champion = await db.Models.AsNoTracking().Where(m => m.Role == ModelRoles.Champion).Select(m => m.Version).SingleOrDefaultAsync(cancellationToken);
                var championAuc = champion is null ? (double?)null : (await GetAsync(db, champion, cancellationToken))?.Card.Metrics.RocAuc;
                if (target.Role == ModelRoles.Champion)
                    return new PromoteOutcome(PromoteResult.AlreadyChampion, target, champion, championAuc, tolerance);
                if (!force && championAuc is { } bar && target.Card.Metrics.RocAuc < bar - tolerance)
                    return new PromoteOutcome(PromoteResult.BelowChampion, target, champion, championAuc, tolerance);

                var now = _clock.GetUtcNow().UtcDateTime;
                await db.Models.Where(m => m.Role == ModelRoles.Champion)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, (string?)null).SetProperty(m => m.RoleChangedAt, now), cancellationToken);
                await db.Models.Where(m => m.Version == version)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, ModelRoles.Champion).SetProperty(m => m.RoleChangedAt, now), cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                _logger.LogInformation("Model {Version} promoted to champion (was {Champion}){Forced}", version, champion, force ? ", forced past the gate" : "");
                await ServeAsync(version, cancellationToken);
                if (target.Role == ModelRoles.Challenger) await ChallengeAsync(null, cancellationToken);
                return new PromoteOutcome(PromoteResult.Promoted, target with { Role = ModelRoles.Champion, RoleChangedAt = now }, champion, championAuc, tolerance);
            }
            catch (Exception ex) when (attempt < 3 && DatabaseErrors.IsUniqueViolation(ex))
            {
                // Another promotion committed between our read and our write: read again.
            }
        }
    }

    /// <summary>
    /// Reads the registry's champion and serves it when it changed since the last read (so a process's own hot reload
    /// is not undone by a read made just before the promotion was written). The first call also deploys the folder's
    /// model (<see cref="DeployAsync"/>). Called every <see cref="ModelRegistryOptions.RolePollInterval"/> by <see cref="RoleSync"/>.
    /// </summary>
    public async Task SyncRolesAsync(CancellationToken cancellationToken)
    {
        if (!_seeded) await DeployAsync(null, cancellationToken);

        // Read and applied under the lock this process's own role changes hold from commit to apply, so a read made
        // before one of them commits is never applied after it (it would undo it until the next poll).
        await _roles.WaitAsync(cancellationToken);
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            var roles = await scope.ServiceProvider.GetRequiredService<JobsDbContext>().Models.AsNoTracking()
                .Where(m => m.Role != null).Select(m => new { m.Role, m.Version }).ToListAsync(cancellationToken);
            var champion = roles.FirstOrDefault(r => r.Role == ModelRoles.Champion)?.Version;
            if (champion is not null && champion != _championSeen) await ServeAsync(champion, cancellationToken);
            var challenger = roles.FirstOrDefault(r => r.Role == ModelRoles.Challenger)?.Version;
            if (challenger != _current.Challenger?.Version) await ChallengeAsync(challenger, cancellationToken);
        }
        finally
        {
            _roles.Release();
        }
    }

    /// <summary>
    /// Makes <paramref name="version"/> the challenger (the previous one, if any, holds no role after), in the registry
    /// and at once in this process. The champion cannot also be the challenger.
    /// </summary>
    public Task<RoleChange> SetChallengerAsync(string version, CancellationToken cancellationToken) =>
        ChangeRoleAsync(version, ModelRoles.Challenger, cancellationToken);

    /// <summary>Takes the challenger role from <paramref name="version"/> (a candidate keeps none). The champion cannot be retired: promote another.</summary>
    public Task<RoleChange> RetireAsync(string version, CancellationToken cancellationToken) =>
        ChangeRoleAsync(version, null, cancellationToken);

    private async Task<RoleChange> ChangeRoleAsync(string version, string? role, CancellationToken cancellationToken)
    {
        await _roles.WaitAsync(cancellationToken);
        try
        {
            return await ChangeRoleLockedAsync(version, role, cancellationToken);
        }
        finally
        {
            _roles.Release();
        }
    }

    private async Task<RoleChange> ChangeRoleLockedAsync(string version, string? role, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = _scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<JobsDbContext>();
            try
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                if (await GetAsync(db, version, cancellationToken) is not { } target) return new RoleChange(RoleChangeResult.NotFound, null);
                if (target.Role == ModelRoles.Champion) return new RoleChange(RoleChangeResult.IsChampion, target);
                if (target.Role == role) return new RoleChange(RoleChangeResult.Unchanged, target);
                var now = _clock.GetUtcNow().UtcDateTime;
                if (role is not null)
                    await db.Models.Where(m => m.Role == role)
                        .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, (string?)null).SetProperty(m => m.RoleChangedAt, now), cancellationToken);
                await db.Models.Where(m => m.Version == version)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.Role, role).SetProperty(m => m.RoleChangedAt, now), cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                _logger.LogInformation("Model {Version} is now {Role}", version, role ?? "a candidate");
                await ChallengeAsync(role == ModelRoles.Challenger ? version : null, cancellationToken);
                return new RoleChange(RoleChangeResult.Changed, target with { Role = role, RoleChangedAt = now });
            }
            catch (Exception ex) when (attempt < 3 && DatabaseErrors.IsUniqueViolation(ex))
            {
                // Another role change committed between our read and our write: read again.
            }
        }
    }

    /// <summary>Scores <paramref name="version"/> in the shadow in this process from now on (null: no challenger). Called holding <c>_roles</c>.</summary>
    private async Task ChallengeAsync(string? version, CancellationToken cancellationToken)
    {
        var model = version is null ? null
            : await FindAsync(version, cancellationToken) ?? throw new InvalidOperationException($"Model {version} is the registry's challenger but its row could not be read.");
        if (model?.Version == _current.Challenger?.Version) return;
        _current.Challenge(model);
        _logger.LogInformation("Challenger in the shadow: {Version}", version ?? "none");
    }

    /// <summary>
    /// Hot reload brought <paramref name="model"/> into the folder and this process serves it: registers it and makes
    /// it champion past the gate (replacing the files is the operator's explicit deployment).
    /// </summary>
    public Task DeployedAsync(FlightModel model, CancellationToken cancellationToken) => DeployAsync(model, cancellationToken);

    /// <summary>
    /// Registers the folder's model and makes it champion: always after a hot reload (<paramref name="reloaded"/>); at
    /// start (null) when it is new to the registry (a new image or volume: a deployment) or there is no champion yet
    /// (the first start). A restart with a folder the registry already knows leaves the champion it names, so
    /// promotions outlive restarts. One at a time, and a start that comes after a reload deploys the reloaded model.
    /// </summary>
    private async Task DeployAsync(FlightModel? reloaded, CancellationToken cancellationToken)
    {
        await _deploys.WaitAsync(cancellationToken);
        try
        {
            if (reloaded is not null) _folderModel = reloaded;
            var model = _folderModel;
            var added = await RegisterAsync(model, "folder", cancellationToken);
            var promote = reloaded is not null || added;
            if (!promote)
            {
                await using var scope = _scopes.CreateAsyncScope();
                promote = !await scope.ServiceProvider.GetRequiredService<JobsDbContext>().Models.AnyAsync(m => m.Role == ModelRoles.Champion, cancellationToken);
            }
            if (promote) await PromoteAsync(model.Version, force: true, cancellationToken);
            _seeded = true;
        }
        finally
        {
            _deploys.Release();
        }
    }

    /// <summary>Serves <paramref name="version"/> as this process's champion, loading it first. Called holding <c>_roles</c>, so two switches never interleave.</summary>
    private async Task ServeAsync(string version, CancellationToken cancellationToken)
    {
        var model = await FindAsync(version, cancellationToken)
            ?? throw new InvalidOperationException($"Model {version} is the registry's champion but its row could not be read.");
        if (_current.Model.Version != version)
        {
            var before = _current.Swap(model);
            _logger.LogInformation("Serving champion {Version} ({Algorithm}); was {Before}", version, model.Card.Algorithm, before.Version);
        }
        _championSeen = version;
    }

    public void Dispose()
    {
        _roles.Dispose();
        _deploys.Dispose();
    }

    /// <summary>
    /// Reads the registry's roles every <see cref="ModelRegistryOptions.RolePollInterval"/>, so a promotion made through any
    /// process reaches this one. A failed read (the database restarting, its schema not migrated yet) is logged and
    /// tried again at the next tick; the model in hand goes on serving.
    /// </summary>
    public sealed class RoleSync(ModelRegistry registry, IOptionsMonitor<ModelRegistryOptions> options, ILogger<RoleSync> logger) : BackgroundService
    {
        /// <summary>How long the host's start waits for the first read, so that its first answers come from the registry's champion.</summary>
        private static readonly TimeSpan FirstReadTimeout = TimeSpan.FromSeconds(10);

        private bool _failing;

        public override async Task StartAsync(CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(FirstReadTimeout);
            await SyncAsync(timeout.Token, cancellationToken);
            await base.StartAsync(cancellationToken);
        }

        private async Task SyncAsync(CancellationToken cancellationToken, CancellationToken stopping)
        {
            try
            {
                await registry.SyncRolesAsync(cancellationToken);
                if (_failing) logger.LogInformation("The model registry answers again");
                _failing = false;
            }
            catch (Exception ex) when (!stopping.IsCancellationRequested)
            {
                // Once per outage, not every tick. (A first read that timed out counts as one.)
                if (!_failing) logger.LogWarning(ex, "Cannot read the model registry; serving {Version} until it answers", registry._current.Model.Version);
                _failing = true;
            }
        }

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(options.CurrentValue.RolePollInterval, registry._clock, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                await SyncAsync(stoppingToken, stoppingToken);
            }
        }
    }
}
