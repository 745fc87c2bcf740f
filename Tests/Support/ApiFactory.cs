using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The real API in-process. Without connection strings it runs the embedded default, on its own SQLite file
/// (so parallel test classes never share one), removed when the factory is disposed.
/// </summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    private readonly string _sqliteFile = Path.Combine(Path.GetTempPath(), $"flightdelay-test-{Guid.NewGuid():N}.db");

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["Logging:LogLevel:Default"] = "Warning",
        // Tests stop brokers and point at dead ones on purpose: connection retries are expected noise.
        ["Logging:LogLevel:MassTransit"] = "Error",
        // Jobs go through the queue and the workers, as the tests of the pipeline mean to; InlineJobTests turns it on.
        ["Jobs:InlineRows"] = "0",
    };

    public ApiFactory() => _settings["ConnectionStrings:Sqlite"] = SqliteConnectionString;

    /// <summary>The embedded database's file, for tests that look at what it stores.</summary>
    public string SqliteConnectionString => $"Data Source={_sqliteFile}";

    /// <summary>What <c>ApiKeys:Keys:N:Hash</c> holds for <paramref name="key"/>: its SHA-256, lower-case hex (as scripts/api-key prints it).</summary>
    public static string KeyHash(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    public ApiFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in _settings)
            builder.UseSetting(key, value);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(_sqliteFile) + "*"))
            File.Delete(file);
    }
}
