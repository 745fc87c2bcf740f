using System.Globalization;

namespace FlightDelay.Api.Infrastructure;

/// <summary>
/// The <c>Prefer</c> request header (RFC 7240) as the job routes honour it: <c>wait=N</c> (seconds to hold the
/// request for an answer that is not ready yet) and <c>respond-async</c> (answer at once). Preferences are hints: one
/// not understood, malformed or repeated (the first counts, RFC 7240 §2) is ignored, never an error.
/// </summary>
internal static class Preferences
{
    private const string Header = "Prefer";

    /// <summary>
    /// The wait a request asks for, cut to <paramref name="max"/>; null when it asks none, asks 0, or asks
    /// <c>respond-async</c> (which wins: the client said it wants no wait).
    /// </summary>
    public static TimeSpan? Wait(HttpRequest request, TimeSpan max)
    {
        TimeSpan? wait = null;
        var seenWait = false;
        foreach (var value in request.Headers[Header])
        {
            foreach (var preference in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var pair = preference.Split(';', 2)[0].Split('=', 2, StringSplitOptions.TrimEntries);
                if (pair[0].Equals("respond-async", StringComparison.OrdinalIgnoreCase)) return null;
                if (!pair[0].Equals("wait", StringComparison.OrdinalIgnoreCase) || seenWait) continue;
                seenWait = true;
                if (pair.Length == 2 && long.TryParse(pair[1].Trim('"'), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0)
                    wait = seconds >= max.TotalSeconds ? max : TimeSpan.FromSeconds(seconds);
            }
        }
        return wait;
    }

    /// <summary>Says the wait was honoured (<c>Preference-Applied: wait=N</c>), and that the answer depends on <c>Prefer</c>.</summary>
    public static void Applied(HttpResponse response, TimeSpan wait)
    {
        response.Headers["Preference-Applied"] = $"wait={(long)Math.Ceiling(wait.TotalSeconds)}";
        response.Headers.Append("Vary", Header);
    }
}
