using FlightDelay.Tests.Jobs;
using Xunit.Abstractions;

namespace FlightDelay.Tests.Faults;

/// <summary>
/// The chaos soak in its short form (about two minutes of faults, then the drain and the check). Longer on demand:
/// <c>FLIGHTDELAY_CHAOS_MINUTES=15 FLIGHTDELAY_CHAOS_SEED=1234 scripts/test --filter FullyQualifiedName~ChaosSoak</c>;
/// a failing run prints its seed, and setting it replays the same job sizes and fault schedule.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ChaosSoakTests(ChaosServices services, ITestOutputHelper output) : IClassFixture<ChaosServices>
{
    [Fact]
    public async Task Random_overlapping_faults_lose_double_and_corrupt_nothing()
    {
        var settings = ChaosSettings.FromEnvironment(TimeSpan.FromSeconds(90));
        var report = Path.Combine(AppContext.BaseDirectory, "chaos-soak.txt");
        void Log(string line)
        {
            output.WriteLine(line);
            File.AppendAllText(report, $"{DateTime.UtcNow:O} {line}\n");
            Console.Error.WriteLine(line);
        }

        await using var soak = new ChaosSoak(services, settings, Log);
        var verdict = await soak.RunAsync();
        Log(ChaosChecker.Describe(verdict));

        var replay = $"replay: FLIGHTDELAY_CHAOS_SEED={settings.Seed} FLIGHTDELAY_CHAOS_MINUTES={settings.Duration.TotalMinutes:0.##}";
        Assert.True(soak.Faults.Count >= settings.Duration.TotalMinutes * settings.FaultsPerMinute / 2, $"too few faults injected ({soak.Faults.Count}); {replay}");
        Assert.True(verdict.Jobs > 0, $"no job was accepted; {replay}");
        Assert.True(verdict is { Lost: 0, Duplicated: 0, Wrong: 0 } && verdict.Problems.Count == 0, $"{ChaosChecker.Describe(verdict)}\n{replay}");
    }
}
