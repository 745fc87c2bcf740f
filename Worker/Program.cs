namespace FlightDelay.Worker;

/// <summary>
/// <c>FlightDelay.Worker</c> runs the worker host; <c>train</c> fits the model; <c>migrate</c> applies the database migrations.
/// (A named class rather than top-level statements, so its <c>Program</c> does not collide with the API's in tests.)
/// </summary>
public static class WorkerProgram
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["train", .. var options]:
                return TrainCommand.Run(options);
            case ["migrate", .. var options]:
                return await WorkerApp.MigrateAsync(options);
            default:
                await WorkerApp.Build(args).RunAsync();
                return 0;
        }
    }
}
