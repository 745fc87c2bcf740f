using System.Security.Cryptography;
using System.Numerics.Tensors;
using Microsoft.Extensions.ObjectPool;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace FlightDelay.Scoring;

/// <summary>
/// A loaded model. Thread-safe: each call rents a <see cref="PredictionEngine{TSrc,TDst}"/> from a pool
/// (an engine is not thread-safe) and scores its rows on the calling thread. A calibrated linear model
/// (the shipped logistic regression) is scored straight from its ML.NET parameters instead: the same arithmetic without the per-row
/// engine and data-view overhead, so a row costs a 37-term dot product.
/// </summary>
public sealed class FlightModel
{
    public const string ModelFileName = "model.zip";
    public const string CardFileName = "model-card.json";

    private readonly ObjectPool<PredictionEngine<FlightRow, FlightScore>> _engines;
    private readonly LinearScorer? _linear;

    private FlightModel(MLContext ml, ITransformer transformer, ModelCard card)
    {
        Card = card;
        _engines = new DefaultObjectPool<PredictionEngine<FlightRow, FlightScore>>(
            new EnginePolicy(ml, transformer), Environment.ProcessorCount * 4);
        _linear = LinearScorer.From(transformer);
    }

    /// <summary>True when rows are scored from the linear model's parameters rather than through ML.NET's engines.</summary>
    public bool IsLinear => _linear is not null;

    public ModelCard Card { get; }

    public string Version => Card.Version;

    /// <summary>Loads <c>model.zip</c> and <c>model-card.json</c> from a folder and checks they belong together.</summary>
    public static FlightModel Load(string directory)
    {
        var modelPath = Path.Combine(directory, ModelFileName);
        return Load(File.ReadAllBytes(modelPath), ModelCard.Read(Path.Combine(directory, CardFileName)), modelPath);
    }

    /// <summary>Loads a model from its <c>model.zip</c> bytes and card (a registry's copy), checking they belong together.</summary>
    /// <exception cref="InvalidDataException">The card's version is not the bytes' version.</exception>
    public static FlightModel Load(byte[] modelBytes, ModelCard card, string source = "the model bytes")
    {
        var version = VersionOf(modelBytes);
        if (card.Version != version)
            throw new InvalidDataException($"Model card version {card.Version} does not match {source} ({version}).");

        var ml = new MLContext();
        using var stream = new MemoryStream(modelBytes, writable: false);
        var transformer = ml.Model.Load(stream, out _);
        return new FlightModel(ml, transformer, card) { Bytes = modelBytes };
    }

    /// <summary>The <c>model.zip</c> bytes it was loaded from, to register it as they are.</summary>
    public byte[] Bytes { get; private init; } = [];

    /// <summary>The model version: derived from the model file's bytes, so equal files mean equal versions.</summary>
    public static string VersionOf(ReadOnlySpan<byte> modelBytes) =>
        "m-" + Convert.ToHexStringLower(SHA256.HashData(modelBytes))[..12];

    /// <summary>Scores one flight given as its 37 features.</summary>
    public Prediction Predict(ReadOnlySpan<float> features) =>
        _linear?.Predict(features) ?? PredictWithEngine(features);

    /// <summary>Scores one flight through a pooled ML.NET prediction engine, whatever the model.</summary>
    public Prediction PredictWithEngine(ReadOnlySpan<float> features)
    {
        Span<Prediction> prediction = stackalloc Prediction[1];
        PredictWithEngine(features, prediction);
        return prediction[0];
    }

    /// <summary>
    /// Scores many flights on the calling thread. <paramref name="features"/> holds the rows
    /// back to back, 37 floats each; one prediction per row is written to <paramref name="predictions"/>.
    /// </summary>
    public void PredictBatch(ReadOnlyMemory<float> features, Span<Prediction> predictions)
    {
        var rows = features.Length / FlightSchema.FeatureCount;
        if (features.Length % FlightSchema.FeatureCount != 0 || predictions.Length < rows)
            throw new ArgumentException("Features must be whole rows of 37 and predictions must have room for each row.");

        if (_linear is not null)
        {
            for (var row = 0; row < rows; row++)
                predictions[row] = _linear.Predict(features.Span.Slice(row * FlightSchema.FeatureCount, FlightSchema.FeatureCount));
            return;
        }

        PredictWithEngine(features.Span, predictions[..rows]);
    }

    /// <summary>
    /// Scores one row per prediction with one pooled engine, on this thread. ML.NET's <c>Transform</c> would split a
    /// batch across parallel cursors whose threads spin waiting on each other: a worker used 1.4 cores for the work of
    /// one, and a second worker process made a CPU-bound job slower instead of faster.
    /// </summary>
    private void PredictWithEngine(ReadOnlySpan<float> features, Span<Prediction> predictions)
    {
        var engine = _engines.Get();
        try
        {
            var row = new FlightRow();
            for (var i = 0; i < predictions.Length; i++)
            {
                features.Slice(i * FlightSchema.FeatureCount, FlightSchema.FeatureCount).CopyTo(row.Features);
                var score = engine.Predict(row);
                predictions[i] = new Prediction(score.PredictedLabel, score.Probability);
            }
        }
        finally
        {
            _engines.Return(engine);
        }
    }

    /// <summary>
    /// ML.NET's linear binary classifier, evaluated directly: score = w·x + b, label = score &gt; 0, probability = the
    /// model's calibrator applied to the score: the calibrator step that follows the classifier in the saved chain
    /// (<see cref="ModelTrainer"/>'s, fitted on out-of-fold scores), or, in a model saved without one, the
    /// classifier's own Platt calibrator.
    /// </summary>
    private sealed class LinearScorer(float[] weights, float bias, ICalibrator calibrator)
    {
        public static LinearScorer? From(ITransformer transformer)
        {
            ITransformer[] steps = transformer is TransformerChain<ITransformer> chain ? [.. chain] : [transformer];
            if (steps is not [ISingleFeaturePredictionTransformer<object> { Model: CalibratedModelParametersBase<LinearBinaryModelParameters, PlattCalibrator> model }, .. var rest]
                || model.SubModel.Weights.Count != FlightSchema.FeatureCount)
                return null;
            return rest switch
            {
                [] => new LinearScorer([.. model.SubModel.Weights], model.SubModel.Bias, model.Calibrator),
                [ISingleFeaturePredictionTransformer<ICalibrator> { Model: var calibrator }] => new LinearScorer([.. model.SubModel.Weights], model.SubModel.Bias, calibrator),
                _ => null,
            };
        }

        public Prediction Predict(ReadOnlySpan<float> features)
        {
            var score = TensorPrimitives.Dot(weights, features) + bias;
            return new Prediction(score > 0, calibrator.PredictProbability(score));
        }
    }

    private sealed class EnginePolicy(MLContext ml, ITransformer transformer)
        : PooledObjectPolicy<PredictionEngine<FlightRow, FlightScore>>
    {
        public override PredictionEngine<FlightRow, FlightScore> Create() =>
            ml.Model.CreatePredictionEngine<FlightRow, FlightScore>(transformer);

        public override bool Return(PredictionEngine<FlightRow, FlightScore> obj) => true;
    }
}
