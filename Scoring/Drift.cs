namespace FlightDelay.Scoring;

/// <summary>
/// One input field of the 37 features: a contiguous one-hot range starting at <see cref="Offset"/>, one feature per
/// value. <see cref="Name"/> is the metric attribute (<c>airline</c>, <c>flight_type</c>, <c>month</c>) and
/// <see cref="Values"/> the values' labels in feature order (airline names, <c>I</c>/<c>N</c>, <c>1</c>…<c>12</c>).
/// </summary>
public sealed record InputField(string Name, int Offset, IReadOnlyList<string> Values)
{
    /// <summary>
    /// The index of the field's value in a 37-feature row: the first non-zero of its range (a valid named flight has
    /// exactly one); -1 when the range is all zeros (a raw vector may set none).
    /// </summary>
    public int ValueOf(ReadOnlySpan<float> row) => row.Slice(Offset, Values.Count).IndexOfAnyExcept(0f);
}

/// <summary>How far one field's recent inputs are from its training shares.</summary>
/// <param name="Field"><c>airline</c>, <c>flight_type</c> or <c>month</c>.</param>
/// <param name="Flights">Flights counted for the field (those with one of its values set).</param>
/// <param name="Psi">Population stability index, ≥ 0; null when <paramref name="Flights"/> is 0.</param>
/// <param name="Values">Every value of the field, in feature order.</param>
public sealed record FieldDrift(string Field, long Flights, double? Psi, IReadOnlyList<ValueShare> Values);

/// <summary>One value of a field: flights with it, their share of the field's flights (0 when none) and its training share.</summary>
public sealed record ValueShare(string Value, long Flights, double Actual, double Training);

/// <summary>
/// Input drift: the population stability index (PSI) of each input field of scored flights against the shares of the
/// model's training data, PSI = Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over the field's values, with both shares floored at
/// <see cref="Epsilon"/> so that a value absent on one side gives a large but finite term. The usual reading:
/// under 0.1 stable, 0.1 to 0.25 moderate, over 0.25 significant. The same formula is the Prometheus recording rule
/// <c>flightdelay:input_psi:1d</c> (deploy/monitoring/flightdelay-rules.yml).
/// </summary>
public static class Drift
{
    /// <summary>The floor of both shares: 1e-4, one flight in ten thousand.</summary>
    public const double Epsilon = 1e-4;

    /// <summary>PSI from which a field's shift is <c>moderate</c>.</summary>
    public const double Moderate = 0.1;

    /// <summary>PSI above which a field's shift is <c>significant</c> (the alert's threshold).</summary>
    public const double Significant = 0.25;

    public static readonly InputField Airline = new("airline", 0, FlightSchema.Airlines);
    public static readonly InputField FlightType = new("flight_type", FlightSchema.FlightTypeOffset, FlightSchema.FlightTypes);
    public static readonly InputField Month = new("month", FlightSchema.MonthOffset, [.. Enumerable.Range(1, 12).Select(m => m.ToString(System.Globalization.CultureInfo.InvariantCulture))]);

    /// <summary>The three fields, in feature order: together they cover the 37 features, each once.</summary>
    public static readonly IReadOnlyList<InputField> Fields = [Airline, FlightType, Month];

    /// <summary>
    /// Adds one row's values to <paramref name="counts"/>, indexed by feature (37): the feature of each field's value is
    /// incremented; a field with no value set adds nothing.
    /// </summary>
    public static void Count(ReadOnlySpan<float> row, Span<long> counts)
    {
        // Each field by name, not a loop over Fields: on the sync hot path an interface enumerator would allocate.
        Count(Airline, row, counts);
        Count(FlightType, row, counts);
        Count(Month, row, counts);
    }

    private static void Count(InputField field, ReadOnlySpan<float> row, Span<long> counts)
    {
        var value = field.ValueOf(row);
        if (value >= 0) counts[field.Offset + value]++;
    }

    /// <summary>
    /// Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ), both shares floored at <see cref="Epsilon"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static double Psi(ReadOnlySpan<double> actual, ReadOnlySpan<double> expected)
    {
        if (actual.Length != expected.Length) throw new ArgumentException("Both distributions need the same values.", nameof(expected));
        var psi = 0.0;
        for (var i = 0; i < actual.Length; i++)
        {
            var a = Math.Max(actual[i], Epsilon);
            var e = Math.Max(expected[i], Epsilon);
            psi += (a - e) * Math.Log(a / e);
        }
        return psi;
    }

    /// <summary><c>stable</c> (under 0.1), <c>moderate</c> (0.1 to 0.25) or <c>significant</c> (over 0.25).</summary>
    public static string Level(double psi) => psi > Significant ? "significant" : psi >= Moderate ? "moderate" : "stable";

    /// <summary>
    /// The training shares of <paramref name="field"/>'s values, in feature order, from the card's counts: airlines from
    /// <see cref="TrainingStatistics.ByAirline"/>, months from <see cref="TrainingStatistics.ByMonth"/>, flight types
    /// summed over <see cref="TrainingStatistics.ByAirlineType"/>. Null when the card lacks the counts (flight types
    /// in cards older than ByAirlineType) or they sum to zero.
    /// </summary>
    public static double[]? TrainingShares(TrainingStatistics training, InputField field)
    {
        var counts = new double[field.Values.Count];
        if (field == Airline)
        {
            foreach (var a in training.ByAirline)
                if (Index(field, a.Airline) is var i and >= 0) counts[i] += a.Flights;
        }
        else if (field == Month)
        {
            foreach (var m in training.ByMonth)
                if (m.Month is >= 1 and <= 12) counts[m.Month - 1] += m.Flights;
        }
        else if (field == FlightType)
        {
            if (training.ByAirlineType is null) return null;
            foreach (var t in training.ByAirlineType)
                if (Index(field, t.FlightType) is var i and >= 0) counts[i] += t.Flights;
        }
        var total = counts.Sum();
        if (total <= 0) return null;
        for (var i = 0; i < counts.Length; i++) counts[i] /= total;
        return counts;
    }

    /// <summary>
    /// Each field's drift from <paramref name="counts"/> (flights per feature, 37, as <see cref="Count"/> adds them)
    /// against <paramref name="training"/>; fields whose training shares the card lacks are left out.
    /// </summary>
    public static IReadOnlyList<FieldDrift> Compare(ReadOnlySpan<long> counts, TrainingStatistics training)
    {
        if (counts.Length != FlightSchema.FeatureCount) throw new ArgumentException($"Expected {FlightSchema.FeatureCount} counts.", nameof(counts));
        var fields = new List<FieldDrift>(Fields.Count);
        foreach (var field in Fields)
        {
            if (TrainingShares(training, field) is not { } expected) continue;
            var own = counts.Slice(field.Offset, field.Values.Count).ToArray();
            var flights = own.Sum();
            var actual = new double[own.Length];
            if (flights > 0)
                for (var i = 0; i < own.Length; i++) actual[i] = (double)own[i] / flights;
            fields.Add(new FieldDrift(field.Name, flights, flights > 0 ? Psi(actual, expected) : null,
                [.. field.Values.Select((v, i) => new ValueShare(v, own[i], actual[i], expected[i]))]));
        }
        return fields;
    }

    private static int Index(InputField field, string value)
    {
        for (var i = 0; i < field.Values.Count; i++)
            if (string.Equals(field.Values[i], value, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}
