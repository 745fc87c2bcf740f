using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace FlightDelay.Persistence;

/// <summary>For <c>dotnet ef migrations add</c>: migrations are PostgreSQL's (SQLite's schema is created from the model).</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<JobsDbContext>
{
    public JobsDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<JobsDbContext>()
            .UseNpgsql("Host=localhost;Database=flightdelay")
            .UseSnakeCaseNamingConvention()
            .Options);
}
