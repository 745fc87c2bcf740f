using System.Diagnostics.Metrics;
using FlightDelay.Scoring;
using FlightDelay.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace FlightDelay.Tests.Scoring;

/// <summary>The sync hot path's metrics, listened to as an exporter would: recording a prediction allocates nothing.</summary>
[Trait("Tier", "Fast")]
public sealed class PredictionMetricsAllocationTests
{
    [Fact]
    public void Recording_a_prediction_with_its_inputs_allocates_nothing()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new PredictionMetrics(services.GetRequiredService<IMeterFactory>());
        var ours = services.GetRequiredService<IMeterFactory>().Create(PredictionMetrics.MeterName);
        long inputs = 0, measurements = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) => { if (instrument.Meter == ours) l.EnableMeasurementEvents(instrument); },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, state) =>
        {
            if (instrument.Name == "flightdelay.prediction.inputs") inputs += value;
            measurements++;
        });
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, state) => measurements++);
        listener.Start();

        Prediction[] predictions = [new Prediction(true, 0.7f)];
        var features = TestFiles.Encode("Grupo LATAM", "I", 7);
        metrics.Record(predictions, features, "predict_api"); // warm up: static tags, JIT
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++) metrics.Record(predictions, features, "predict_api");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(3 * 1_001, inputs);
        Assert.True(measurements > 0);
    }
}
