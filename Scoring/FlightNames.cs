using System.Globalization;
using System.Text;

namespace FlightDelay.Scoring;

/// <summary>
/// The names people give the seed's categories, as spreadsheets hold them: any case, accents, spaces and punctuation
/// (<c>Aerolíneas Argentinas</c>, <c>KLM</c>), common short names and aliases (<c>LATAM</c>, <c>Sky</c>), flight types
/// as words (<c>International</c>, <c>Nacional</c>), months as numbers or English or Spanish names and abbreviations
/// (<c>07</c>, <c>Jul</c>, <c>julio</c>), and column headers (<c>Flight Type</c>, <c>flight_type</c>, the seed's
/// <c>OPERA</c>, <c>TIPOVUELO</c>, <c>MES</c>). Anything else gets a "did you mean" when a known name is a typo away.
/// </summary>
public static class FlightNames
{
    /// <summary>Airline aliases (keys already in <see cref="Key"/> form) to the canonical name in <see cref="FlightSchema.Airlines"/>.</summary>
    private static readonly Dictionary<string, string> AirlineAliases = Build(
        FlightSchema.Airlines.Select(a => (a, a)).Concat(
        [
            ("LATAM", "Grupo LATAM"), ("LATAM Airlines", "Grupo LATAM"), ("LAN", "Grupo LATAM"), ("LAN Chile", "Grupo LATAM"),
            ("KLM", "K.L.M."), ("KLM Royal Dutch Airlines", "K.L.M."),
            ("Aerolineas", "Aerolineas Argentinas"), ("Sky", "Sky Airline"), ("JetSmart", "JetSmart SPA"),
            ("Copa", "Copa Air"), ("Copa Airlines", "Copa Air"), ("Delta", "Delta Air"), ("Delta Air Lines", "Delta Air"),
            ("Gol", "Gol Trans"), ("Gol Linhas Aereas", "Gol Trans"), ("American", "American Airlines"),
            ("United", "United Airlines"), ("Qantas", "Qantas Airways"), ("Plus Ultra", "Plus Ultra Lineas Aereas"),
            ("Oceanair", "Oceanair Linhas Aereas"), ("Lacel", "Lacel Airlines"), ("Alitalia Airlines", "Alitalia"),
            ("Aerolineas Argentinas SA", "Aerolineas Argentinas"), ("Air France KLM", "Air France"),
        ]));

    private static readonly Dictionary<string, string> FlightTypeAliases = Build(
    [
        ("I", "I"), ("International", "I"), ("Internacional", "I"), ("Intl", "I"), ("Int", "I"),
        ("N", "N"), ("National", "N"), ("Nacional", "N"), ("Domestic", "N"), ("Domestico", "N"), ("Nat", "N"), ("Dom", "N"),
    ]);

    private static readonly Dictionary<string, int> MonthNames = BuildMonths();

    private static readonly Dictionary<string, string> ColumnAliases = Build(
    [
        ("airline", "airline"), ("OPERA", "airline"), ("Operator", "airline"), ("Aerolinea", "airline"), ("Carrier", "airline"),
        ("Airline Name", "airline"),
        ("flightType", "flightType"), ("Flight Type", "flightType"), ("Type", "flightType"), ("TIPOVUELO", "flightType"),
        ("Tipo Vuelo", "flightType"), ("Tipo de Vuelo", "flightType"),
        ("month", "month"), ("MES", "month"), ("Flight Month", "month"),
    ]);

    /// <summary>The canonical airline for <paramref name="name"/> (exact, any case or spelling above), or null.</summary>
    public static string? Airline(ReadOnlySpan<char> name) => AirlineAliases.GetValueOrDefault(Key(name));

    /// <summary><c>I</c> or <c>N</c> for <paramref name="name"/>, or null.</summary>
    public static string? FlightType(ReadOnlySpan<char> name) => FlightTypeAliases.GetValueOrDefault(Key(name));

    /// <summary>The month 1–12 that <paramref name="text"/> names (a whole number, or an English or Spanish name or abbreviation), or null.</summary>
    public static int? Month(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number)) return number;
        // 7.0, as a spreadsheet may write a whole number.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && real == Math.Floor(real) && Math.Abs(real) < 1e6)
            return (int)real;
        return MonthNames.TryGetValue(Key(text), out var month) ? month : null;
    }

    /// <summary>The field (<c>airline</c>, <c>flightType</c> or <c>month</c>) a column header names, or null for another column.</summary>
    public static string? Column(ReadOnlySpan<char> header) => ColumnAliases.GetValueOrDefault(Key(header));

    /// <summary>" Did you mean 'X'?" for the known airline closest to <paramref name="name"/> when it is a typo away, else "".</summary>
    public static string AirlineSuggestion(ReadOnlySpan<char> name) => Suggestion(name, AirlineAliases);

    /// <summary>" Did you mean 'X'?" for a flight type a typo away, else "".</summary>
    public static string FlightTypeSuggestion(ReadOnlySpan<char> name) => Suggestion(name, FlightTypeAliases);

    /// <summary>" Did you mean 'X'?" for a column header a typo away from one of the three fields, else "".</summary>
    public static string ColumnSuggestion(ReadOnlySpan<char> header) => Suggestion(header, ColumnAliases);

    /// <summary>
    /// A name reduced to what tells names apart: letters and digits only, accents removed, lower case
    /// (<c>Aerolíneas-Argentinas</c> and <c>aerolineas argentinas</c> are both <c>aerolineasargentinas</c>).
    /// </summary>
    public static string Key(ReadOnlySpan<char> name)
    {
        var key = new StringBuilder(name.Length);
        foreach (var c in name)
            if (char.IsLetterOrDigit(c)) key.Append(Unaccented(char.ToLowerInvariant(c)));
        return key.ToString();
    }

    /// <summary>
    /// The letter without its accent, for the Latin letters of Spanish, Portuguese and French names. (string.Normalize
    /// cannot do it: the services run with invariant globalization, without ICU's tables.)
    /// </summary>
    private static char Unaccented(char c) => c switch
    {
        'á' or 'à' or 'â' or 'ä' or 'ã' or 'å' => 'a',
        'é' or 'è' or 'ê' or 'ë' => 'e',
        'í' or 'ì' or 'î' or 'ï' => 'i',
        'ó' or 'ò' or 'ô' or 'ö' or 'õ' => 'o',
        'ú' or 'ù' or 'û' or 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        _ => c,
    };

    private static string Suggestion<T>(ReadOnlySpan<char> name, Dictionary<string, T> known)
    {
        var key = Key(name);
        if (key.Length < 2) return "";
        // A typo: at most one edit (a swap of two letters counts as one) in four characters, one at least.
        var best = known.Select(k => (k.Value, Distance: EditDistance(key, k.Key))).MinBy(k => k.Distance);
        return best.Distance <= Math.Max(1, key.Length / 4) ? $" Did you mean '{best.Value}'?" : "";
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours, one each.</summary>
    private static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }

    private static Dictionary<string, T> Build<T>(IEnumerable<(string Name, T Value)> entries)
    {
        var map = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (name, value) in entries) map[Key(name)] = value;
        return map;
    }

    private static Dictionary<string, int> BuildMonths()
    {
        string[][] names =
        [
            ["january", "jan", "enero", "ene"], ["february", "feb", "febrero"], ["march", "mar", "marzo"],
            ["april", "apr", "abril", "abr"], ["may", "mayo"], ["june", "jun", "junio"], ["july", "jul", "julio"],
            ["august", "aug", "agosto", "ago"], ["september", "sep", "sept", "septiembre", "setiembre", "set"],
            ["october", "oct", "octubre"], ["november", "nov", "noviembre"], ["december", "dec", "diciembre", "dic"],
        ];
        return Build(names.SelectMany((aliases, i) => aliases.Select(a => (a, i + 1))));
    }
}
