using FlightDelay.Persistence.Jobs;
using FlightDelay.Persistence.Models;
using Microsoft.EntityFrameworkCore;

namespace FlightDelay.Persistence;

/// <summary>
/// The jobs database: PostgreSQL in production (schema by migrations), SQLite in the embedded default
/// (schema created on start). Table and column names are snake_case on both.
/// </summary>
public sealed class JobsDbContext(DbContextOptions<JobsDbContext> options) : DbContext(options)
{
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobChunk> Chunks => Set<JobChunk>();
    public DbSet<JobInput> Inputs => Set<JobInput>();
    public DbSet<JobChunkResult> ChunkResults => Set<JobChunkResult>();
    public DbSet<JobCallbackAttempt> CallbackAttempts => Set<JobCallbackAttempt>();
    public DbSet<JobRowError> RowErrors => Set<JobRowError>();
    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();
    public DbSet<JobChunkOutcome> ChunkOutcomes => Set<JobChunkOutcome>();
    public DbSet<JobChunkShadowResult> ShadowResults => Set<JobChunkShadowResult>();

    /// <summary>
    /// SQL's <c>substr</c> of a blob: <paramref name="length"/> bytes from the 1-based <paramref name="start"/>, the same
    /// function on PostgreSQL and SQLite. Result blobs are stored uncompressed, so PostgreSQL reads only those bytes.
    /// </summary>
    [DbFunction("substr", IsBuiltIn = true)]
    public static byte[] Substr(byte[] blob, int start, int length) => throw new NotSupportedException("Only in queries.");

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<JobStatus>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<ChunkStatus>().HaveConversion<string>().HaveMaxLength(16);
        configurationBuilder.Properties<CallbackState>().HaveConversion<string>().HaveMaxLength(16);
        if (Database.IsSqlite())
            JobsDatabase.ConfigureSqliteConventions(configurationBuilder);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Job>(job =>
        {
            job.ToTable("jobs");
            job.HasKey(j => j.Id);
            job.Property(j => j.ModelVersion).HasMaxLength(64);
            job.Property(j => j.Error).HasMaxLength(2000);
            job.Property(j => j.IdempotencyKey).HasMaxLength(200);
            job.Property(j => j.RequestHash).HasMaxLength(64);
            job.Property(j => j.Owner).HasMaxLength(100);
            job.HasIndex(j => new { j.Owner, j.IdempotencyKey }).IsUnique();
            job.HasIndex(j => j.CreatedAt);
            job.HasIndex(j => new { j.Status, j.FinishedAt });
            job.Property(j => j.CallbackUrl).HasMaxLength(2048);
            job.Property(j => j.Name).HasMaxLength(200);
            job.Property(j => j.PassthroughColumns).HasMaxLength(20000);
            // The callback dispatcher's question: which pending callbacks are due.
            job.HasIndex(j => new { j.CallbackState, j.CallbackNextAttemptAt });
        });
        modelBuilder.Entity<JobChunk>(chunk =>
        {
            chunk.ToTable("job_chunks");
            chunk.HasKey(c => new { c.JobId, c.ChunkIndex });
            chunk.Property(c => c.ModelVersion).HasMaxLength(64);
            chunk.Property(c => c.WorkerId).HasMaxLength(200);
            chunk.Property(c => c.Error).HasMaxLength(2000);
            chunk.HasOne<Job>().WithMany().HasForeignKey(c => c.JobId).OnDelete(DeleteBehavior.Cascade);
            chunk.HasIndex(c => new { c.Status, c.DispatchedAt });
        });
        modelBuilder.Entity<JobInput>(input =>
        {
            input.ToTable("job_inputs");
            input.HasKey(i => new { i.JobId, i.ChunkIndex });
            input.HasOne<Job>().WithMany().HasForeignKey(i => i.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobChunkResult>(result =>
        {
            result.ToTable("job_chunk_results");
            // The key is the exactly-once guarantee's last line: a chunk's results can be stored only once.
            result.HasKey(r => new { r.JobId, r.ChunkIndex });
            result.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobRowError>(error =>
        {
            error.ToTable("job_row_errors");
            error.HasKey(e => new { e.JobId, e.Row });
            error.Property(e => e.Where).HasMaxLength(200);
            error.Property(e => e.Message).HasMaxLength(1000);
            error.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobCallbackAttempt>(attempt =>
        {
            attempt.ToTable("job_callback_attempts");
            attempt.HasKey(a => new { a.JobId, a.Attempt });
            attempt.Property(a => a.Error).HasMaxLength(500);
            attempt.HasOne<Job>().WithMany().HasForeignKey(a => a.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobChunkShadowResult>(shadow =>
        {
            shadow.ToTable("job_chunk_shadow_results");
            shadow.HasKey(r => new { r.JobId, r.ChunkIndex, r.ModelVersion });
            shadow.Property(r => r.ModelVersion).HasMaxLength(64);
            shadow.HasOne<Job>().WithMany().HasForeignKey(r => r.JobId).OnDelete(DeleteBehavior.Cascade);
            // The comparison's question: every chunk a challenger scored.
            shadow.HasIndex(r => r.ModelVersion);
        });
        modelBuilder.Entity<JobChunkOutcome>(outcome =>
        {
            outcome.ToTable("job_chunk_outcomes");
            outcome.HasKey(o => new { o.JobId, o.ChunkIndex });
            outcome.HasOne<Job>().WithMany().HasForeignKey(o => o.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<RegisteredModel>(model =>
        {
            model.ToTable("model_versions");
            model.HasKey(m => m.Version);
            model.Property(m => m.Version).HasMaxLength(64);
            model.Property(m => m.Algorithm).HasMaxLength(100);
            model.Property(m => m.Source).HasMaxLength(16);
            model.Property(m => m.Role).HasMaxLength(16);
            // One champion and one challenger at most: the database, not a check in code, keeps it so under races.
            model.HasIndex(m => m.Role).IsUnique();
        });
    }
}
