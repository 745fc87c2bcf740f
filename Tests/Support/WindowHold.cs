using FlightDelay.Persistence;
using FlightDelay.Persistence.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Support;

/// <summary>
/// Holds an owner's dispatch window (a host with <c>Jobs:DispatchWindow=1</c>) with a chunk that a live worker has
/// leased for an hour: none of the owner's next jobs' chunks is sent, so such a job is certainly still queued when a
/// test cancels it, however fast the upload and the scoring are. The blocker's rows go on dispose.
/// </summary>
public sealed class WindowHold : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly Guid _blocker = Guid.CreateVersion7();

    private WindowHold(IServiceProvider services) => _services = services;

    /// <summary>Inserts a running job of <paramref name="owner"/> (empty: no API keys) with one leased chunk.</summary>
    public static async Task<WindowHold> StartAsync(IServiceProvider services, string owner = "")
    {
        var hold = new WindowHold(services);
        await hold.WithDbAsync(async db =>
        {
            var now = DateTime.UtcNow;
            db.Jobs.Add(new Job { Id = hold._blocker, Status = JobStatus.Running, CreatedAt = now, StartedAt = now, ChunkSize = 500, ChunkCount = 1, TotalRows = 500, Owner = owner });
            db.Chunks.Add(new JobChunk
            {
                JobId = hold._blocker, ChunkIndex = 0, FirstRow = 1, RowCount = 500, Status = ChunkStatus.Leased, Attempts = 1,
                LeaseToken = Guid.NewGuid(), WorkerId = "held-by-the-test", LeaseExpiresAt = now.AddHours(1), DispatchedAt = now,
            });
            await db.SaveChangesAsync();
        });
        return hold;
    }

    public async ValueTask DisposeAsync() =>
        await WithDbAsync(async db =>
        {
            await db.Chunks.Where(c => c.JobId == _blocker).ExecuteDeleteAsync();
            await db.Jobs.Where(j => j.Id == _blocker).ExecuteDeleteAsync();
        });

    private async Task WithDbAsync(Func<JobsDbContext, Task> work)
    {
        await using var scope = _services.CreateAsyncScope();
        await work(scope.ServiceProvider.GetRequiredService<JobsDbContext>());
    }
}
