using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Micro -- --filter '*'   (bench/run runs them all)
BenchmarkSwitcher.FromAssembly(typeof(FlightDelay.Bench.Micro.HotPaths).Assembly).Run(args);
