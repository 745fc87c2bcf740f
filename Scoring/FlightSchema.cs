namespace FlightDelay.Scoring;

/// <summary>
/// The seed's 37 features: the pandas <c>get_dummies</c> one-hot encoding (categories sorted)
/// of airline (<c>OPERA</c>), flight type (<c>TIPOVUELO</c>) and month (<c>MES</c>).
/// </summary>
public static class FlightSchema
{
    public const int FeatureCount = 37;
    public const int FlightTypeOffset = 23;
    public const int MonthOffset = 25;

    public static readonly IReadOnlyList<string> Airlines =
    [
        "Aerolineas Argentinas", "Aeromexico", "Air Canada", "Air France", "Alitalia",
        "American Airlines", "Austral", "Avianca", "British Airways", "Copa Air", "Delta Air",
        "Gol Trans", "Grupo LATAM", "Iberia", "JetSmart SPA", "K.L.M.", "Lacel Airlines",
        "Latin American Wings", "Oceanair Linhas Aereas", "Plus Ultra Lineas Aereas",
        "Qantas Airways", "Sky Airline", "United Airlines",
    ];

    /// <summary><c>I</c> international, <c>N</c> national.</summary>
    public static readonly IReadOnlyList<string> FlightTypes = ["I", "N"];

    public static readonly IReadOnlyList<string> FeatureNames =
    [
        .. Airlines.Select(a => $"airline={a}"),
        .. FlightTypes.Select(t => $"flightType={t}"),
        .. Enumerable.Range(1, 12).Select(m => $"month={m}"),
    ];

    private static readonly Dictionary<string, int> AirlineIndex =
        Airlines.Select((name, i) => (name, i)).ToDictionary(x => x.name, x => x.i, StringComparer.OrdinalIgnoreCase);

    // Looks names up from spans of an upload's line, so a million-row CSV allocates no string per field.
    private static readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> AirlineBySpan =
        AirlineIndex.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Encodes a named flight into <paramref name="features"/> (length 37).
    /// Names match in any case, and in the other spellings <see cref="FlightNames"/> knows. Returns the problems found, or an empty list.
    /// </summary>
    public static IReadOnlyList<FieldError> TryEncode(string? airline, string? flightType, int? month, Span<float> features) =>
        TryEncode(airline.AsSpan(), flightType.AsSpan(), month, features);

    /// <summary>The same, from spans (an empty span is a missing value).</summary>
    public static IReadOnlyList<FieldError> TryEncode(ReadOnlySpan<char> airline, ReadOnlySpan<char> flightType, int? month, Span<float> features)
    {
        if (features.Length != FeatureCount)
            throw new ArgumentException($"Expected a span of {FeatureCount} features.", nameof(features));

        List<FieldError>? errors = null;
        features.Clear();

        if (airline.IsWhiteSpace())
            (errors ??= []).Add(new("airline", $"airline is required; accepted values: {string.Join(", ", Airlines)}."));
        else if (AirlineBySpan.TryGetValue(airline.Trim(), out var a))
            features[a] = 1;
        // The rare spelling that is not the card's (accents, LATAM, KLM): the slower lookup, which allocates.
        else if (FlightNames.Airline(airline) is { } alias)
            features[AirlineIndex[alias]] = 1;
        else
            (errors ??= []).Add(new("airline", $"Unknown airline '{airline}'.{FlightNames.AirlineSuggestion(airline)} Accepted values: {string.Join(", ", Airlines)}."));

        var type = flightType.Trim();
        if (type.IsEmpty)
            (errors ??= []).Add(new("flightType", "flightType is required; accepted values: I (international), N (national)."));
        else if (type.Equals("I", StringComparison.OrdinalIgnoreCase))
            features[FlightTypeOffset] = 1;
        else if (type.Equals("N", StringComparison.OrdinalIgnoreCase))
            features[FlightTypeOffset + 1] = 1;
        else if (FlightNames.FlightType(type) is { } code)
            features[FlightTypeOffset + (code == "I" ? 0 : 1)] = 1;
        else
            (errors ??= []).Add(new("flightType", $"Unknown flightType '{flightType}'.{FlightNames.FlightTypeSuggestion(type)} Accepted values: I (international), N (national)."));

        if (month is null)
            (errors ??= []).Add(new("month", "month is required; accepted values: 1 to 12."));
        else if (month is < 1 or > 12)
            (errors ??= []).Add(new("month", $"Unknown month {month}; accepted values: 1 to 12."));
        else
            features[MonthOffset + month.Value - 1] = 1;

        return errors ?? (IReadOnlyList<FieldError>)[];
    }

    /// <summary>
    /// The named flight a feature vector encodes (one airline, one flight type and one month set to 1, the rest 0, as
    /// <see cref="TryEncode(string?, string?, int?, Span{float})"/> writes it); false for any other vector.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<float> features, out string airline, out string flightType, out int month)
    {
        (airline, flightType, month) = ("", "", 0);
        if (features.Length != FeatureCount) return false;
        int a = -1, t = -1, m = -1;
        for (var i = 0; i < FeatureCount; i++)
        {
            if (features[i] == 0) continue;
            if (features[i] != 1) return false;
            ref var slot = ref i < FlightTypeOffset ? ref a : ref i < MonthOffset ? ref t : ref m;
            if (slot >= 0) return false;
            slot = i;
        }
        if (a < 0 || t < 0 || m < 0) return false;
        (airline, flightType, month) = (Airlines[a], FlightTypes[t - FlightTypeOffset], m - MonthOffset + 1);
        return true;
    }

    /// <summary>Checks a raw feature vector: exactly 37 finite numbers.</summary>
    public static FieldError? Validate(ReadOnlySpan<float> features)
    {
        if (features.Length != FeatureCount)
            return new("features", $"Expected {FeatureCount} numbers, received {features.Length}.");
        for (var i = 0; i < features.Length; i++)
        {
            if (!float.IsFinite(features[i]))
                return new("features", $"Feature {i} is not a finite number.");
        }
        return null;
    }
}

/// <summary>A validation problem with one input field.</summary>
public sealed record FieldError(string Field, string Message);
