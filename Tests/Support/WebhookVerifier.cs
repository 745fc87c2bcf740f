using System.Text;
using System.Text.Json;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The off-the-shelf Standard Webhooks verifier: the npm <c>standardwebhooks</c> package, run by Node from
/// <c>Tests/Callbacks/verifier</c> (scripts/test installs it with <c>npm ci</c>). Not our code: what receivers run.
/// </summary>
public static class WebhookVerifier
{
    private static readonly string Folder = Path.Combine(TestFiles.RepositoryRoot, "Tests", "Callbacks", "verifier");

    /// <summary>Verifies a received callback with <paramref name="secret"/> (<c>whsec_…</c>); returns the payload type, or null when refused.</summary>
    public static async Task<string?> VerifyAsync(ReceivedCallback callback, string secret)
    {
        var input = JsonSerializer.Serialize(new
        {
            secret,
            headers = callback.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value),
            body = Encoding.UTF8.GetString(callback.Body),
        });
        var (exitCode, output, errors) = await NodeScript.RunAsync(Folder, "standardwebhooks", "verify.mjs", input, TimeSpan.FromSeconds(30));
        output = output.Trim();
        return exitCode switch
        {
            0 => output,
            1 when output.StartsWith("refused", StringComparison.Ordinal) => null,
            _ => throw new InvalidOperationException($"node verify.mjs exited {exitCode}: {output} {errors}"),
        };
    }
}
