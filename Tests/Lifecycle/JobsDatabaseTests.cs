using FlightDelay.Persistence;
using Npgsql;

namespace FlightDelay.Tests.Lifecycle;

/// <summary>The PostgreSQL connection string the service runs with: auto-prepare on unless the operator says otherwise.</summary>
[Trait("Tier", "Fast")]
public sealed class JobsDatabaseTests
{
    [Fact]
    public void A_connection_string_without_auto_prepare_gets_the_default()
    {
        var built = new NpgsqlConnectionStringBuilder(JobsDatabase.Postgres("Host=db;Database=jobs;Username=u").ConnectionString);

        Assert.Equal(JobsDatabase.DefaultMaxAutoPrepare, built.MaxAutoPrepare);
        Assert.Equal("db", built.Host);
        Assert.Equal("jobs", built.Database);
    }

    [Theory]
    [InlineData("Host=db;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;MaxAutoPrepare=0", 0)]
    [InlineData("Host=db;max auto prepare=5", 5)]
    public void An_operators_auto_prepare_setting_is_kept(string connectionString, int expected) =>
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(JobsDatabase.Postgres(connectionString).ConnectionString).MaxAutoPrepare);
}
