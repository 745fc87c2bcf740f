using Npgsql;

namespace FlightDelay.Tests.Support;

/// <summary>A fresh PostgreSQL database per test run, on the server an admin connection string reaches.</summary>
public static class TestDatabases
{
    /// <summary>Creates <c>{prefix}_{guid}</c>; returns its name and a connection string to it.</summary>
    public static async Task<(string Name, string ConnectionString)> CreateAsync(string admin, string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}";
        await ExecuteAsync(admin, $"CREATE DATABASE {name}");
        return (name, new NpgsqlConnectionStringBuilder(admin) { Database = name }.ConnectionString);
    }

    /// <summary>Drops it, closing what is still connected (this process's pooled connections first).</summary>
    public static async Task DropAsync(string admin, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string admin, string sql)
    {
        await using var connection = new NpgsqlConnection(admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
