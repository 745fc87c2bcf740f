using System.Diagnostics;

namespace FlightDelay.Tests.Support;

/// <summary>
/// The off-the-shelf tools the tests check the service with are npm packages run by Node, each in a folder under
/// Tests with its own package.json and lock file (scripts/test installs them with <c>npm ci</c>).
/// </summary>
internal static class NodeScript
{
    /// <summary>
    /// Runs <c>node {script} {arguments}</c> in <paramref name="folder"/> with <paramref name="input"/> on its standard
    /// input; returns its exit code and what it wrote. Throws when <paramref name="package"/> is not installed there, or
    /// when the script outlasts <paramref name="timeout"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string folder, string package, string script, string input, TimeSpan timeout,
        params string[] arguments)
    {
        if (!Directory.Exists(Path.Combine(folder, "node_modules", package)))
            throw new InvalidOperationException($"{package} is not installed: run `npm ci --prefix {folder}` (scripts/test does).");
        var info = new ProcessStartInfo("node", [script, .. arguments])
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(info)!;
        // Both streams read at once: a script that fills one while we wait on the other would never end.
        var output = node.StandardOutput.ReadToEndAsync();
        var errors = node.StandardError.ReadToEndAsync();
        await node.StandardInput.WriteAsync(input);
        node.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout);
        await node.WaitForExitAsync(cancel.Token);
        return (node.ExitCode, await output, await errors);
    }
}
