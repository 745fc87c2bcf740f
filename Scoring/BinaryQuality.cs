namespace FlightDelay.Scoring;

/// <summary>
/// How well predictions of "delayed" matched what happened, for the delayed class: counts, confusion matrix
/// <c>[[tn, fp], [fn, tp]]</c> (scikit-learn's layout), accuracy, precision, recall, F1 and ROC AUC. A ratio is null
/// when its denominator is zero (no flagged flights, no delayed ones, or only one class for the AUC). Unrounded.
/// </summary>
public sealed record QualityFigures(
    long Flights,
    long Delayed,
    long[][] ConfusionMatrix,
    double? Accuracy,
    double? Precision,
    double? Recall,
    double? F1,
    double? RocAuc)
{
    /// <summary>No flights: every count zero, every ratio null.</summary>
    public static readonly QualityFigures None = BinaryQuality.Evaluate([], [], []);
}

/// <summary>The one place the service's quality figures are computed: the trainer's test card and the live figures from reported outcomes alike.</summary>
public static class BinaryQuality
{
    /// <summary>
    /// Figures for <paramref name="labels"/> (true = delayed) against the served <paramref name="predicted"/> labels and
    /// <paramref name="probabilities"/>, all the same length. ROC AUC is the Mann-Whitney statistic of the probabilities:
    /// the chance that a delayed flight has a higher probability than an on-time one, ties counted half.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static QualityFigures Evaluate(ReadOnlySpan<bool> labels, ReadOnlySpan<bool> predicted, ReadOnlySpan<float> probabilities)
    {
        if (predicted.Length != labels.Length || probabilities.Length != labels.Length)
            throw new ArgumentException("Labels, predictions and probabilities must have one entry per flight.");
        long tn = 0, fp = 0, fn = 0, tp = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            switch (labels[i], predicted[i])
            {
                case (false, false): tn++; break;
                case (false, true): fp++; break;
                case (true, false): fn++; break;
                case (true, true): tp++; break;
            }
        }
        double? precision = tp + fp == 0 ? null : tp / (double)(tp + fp);
        double? recall = tp + fn == 0 ? null : tp / (double)(tp + fn);
        return new QualityFigures(
            labels.Length,
            tp + fn,
            [[tn, fp], [fn, tp]],
            labels.Length == 0 ? null : (tp + tn) / (double)labels.Length,
            precision,
            recall,
            precision is { } p && recall is { } r && p + r > 0 ? 2 * p * r / (p + r) : null,
            RocAuc(labels, probabilities));
    }

    /// <summary>Area under the ROC curve by ranks (Mann-Whitney U / (positives × negatives)), tied probabilities sharing their mean rank; null with one class.</summary>
    public static double? RocAuc(ReadOnlySpan<bool> labels, ReadOnlySpan<float> probabilities)
    {
        var order = new int[labels.Length];
        for (var i = 0; i < order.Length; i++) order[i] = i;
        var keys = probabilities.ToArray();
        Array.Sort(keys, order);
        double positives = 0, rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && keys[end + 1] == keys[start]) end++;
            // Ranks start..end (1-based: start+1..end+1) share their mean.
            var rank = (start + end + 2) / 2.0;
            for (var k = start; k <= end; k++)
            {
                if (!labels[order[k]]) continue;
                positives++;
                rankSum += rank;
            }
            start = end + 1;
        }
        var negatives = labels.Length - positives;
        if (positives == 0 || negatives == 0) return null;
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }
}
