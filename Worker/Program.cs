using FlightDelay.Worker;

return args switch
{
    ["train", .. var options] => TrainCommand.Run(options),
    ["migrate", .. var options] => await WorkerApp.MigrateAsync(options),
    _ => await RunAsync(args),
};

static async Task<int> RunAsync(string[] args)
{
    await WorkerApp.Build(args).RunAsync();
    return 0;
}
