using FlightDelay.Worker;

if (args is ["train", .. var trainArgs])
    return TrainCommand.Run(trainArgs);

Console.Error.WriteLine("usage: train [options]");
return 2;
