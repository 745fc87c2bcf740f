namespace FlightDelay.Processing.Hosting;

/// <summary>
/// The marker the example overlay and docs put where a secret belongs (<c>CHANGE-ME</c>). A process refuses to start
/// with it in a connection string or a signing key, so an environment copied from the example cannot run on its
/// placeholders.
/// </summary>
public static class Placeholders
{
    /// <summary>The marker, matched without regard to case.</summary>
    public const string Marker = "CHANGE-ME";

    /// <summary>Whether <paramref name="value"/> holds the marker.</summary>
    public static bool Contains(string? value) => value?.Contains(Marker, StringComparison.OrdinalIgnoreCase) == true;
}
