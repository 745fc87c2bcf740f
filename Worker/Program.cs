namespace FlightDelay.Worker;

/// <summary>
/// <c>FlightDelay.Worker</c> runs the worker host; <c>train</c> fits the model; <c>migrate</c> applies the database migrations
/// and declares the broker's queue; <c>probe URL</c> is the container health check.
/// (A named class rather than top-level statements, so its <c>Program</c> does not collide with the API's in tests.)
/// </summary>
public static class WorkerProgram
{
    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["train", .. var options]:
                return await TrainCommand.RunAsync(options);
            case ["migrate", .. var options]:
                return await WorkerApp.MigrateAsync(options);
            // The container health check of the chiseled image, which has no shell or curl.
            case ["probe", var url]:
                return await FlightDelay.ServiceDefaults.ServiceDefaults.ProbeAsync(url);
            default:
                await WorkerApp.Build(args).RunAsync();
                return 0;
        }
    }
}
