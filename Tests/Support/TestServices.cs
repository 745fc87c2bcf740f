using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The real PostgreSQL and RabbitMQ the integration tests use: from <c>FLIGHTDELAY_TEST_POSTGRES</c> and
/// <c>FLIGHTDELAY_TEST_RABBITMQ</c> when set (scripts/test starts local ones), else Testcontainers when a Docker
/// engine is there. Never a fake.
/// </summary>
public static class TestServices
{
    private static readonly Lazy<Task<string>> PostgresConnection = new(() =>
        FromEnvironmentOr("FLIGHTDELAY_TEST_POSTGRES", async () =>
        {
            var container = new PostgreSqlBuilder("postgres:15").Build();
            await container.StartAsync();
            return container.GetConnectionString();
        }));

    private static readonly Lazy<Task<string>> RabbitMqUri = new(() =>
        FromEnvironmentOr("FLIGHTDELAY_TEST_RABBITMQ", async () =>
        {
            var container = new RabbitMqBuilder("rabbitmq:3.13").Build();
            await container.StartAsync();
            return container.GetConnectionString();
        }));

    public static Task<string> PostgresAsync() => PostgresConnection.Value;

    public static Task<string> RabbitMqAsync() => RabbitMqUri.Value;

    /// <summary>The script that starts and stops the local services, when the tests run under scripts/test.</summary>
    public static string? ServicesScript => Environment.GetEnvironmentVariable("FLIGHTDELAY_SERVICES_SCRIPT");

    private static async Task<string> FromEnvironmentOr(string variable, Func<Task<string>> startContainer)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value)
            return value;
        try
        {
            return await startContainer();
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException(
                $"{variable} is not set and no Docker engine could start a container ({ex.Message}). Run the tests with scripts/test, which starts PostgreSQL and RabbitMQ locally.", ex);
        }
    }
}
