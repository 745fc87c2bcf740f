using System.Globalization;

namespace FlightDelay.Tests.Support;

/// <summary>Reads samples out of a <c>/metrics</c> scrape (Prometheus text format).</summary>
public static class PrometheusText
{
    /// <summary>
    /// Scrapes <c>/metrics</c> until <paramref name="name"/> has a sample with <paramref name="labels"/>, and returns that
    /// scrape. Polls: a metric recorded after a commit can lag what the API already answers, and scrapes may be cached.
    /// </summary>
    public static Task<string> WaitForAsync(HttpClient client, string name, params (string Label, string Value)[] labels) =>
        Poll.UntilAsync(() => client.GetStringAsync("/metrics"), m => Sum(m, name, labels) > 0, JobApi.Deadline,
            $"{name} with {string.Join(", ", labels.Select(l => $"{l.Label}=\"{l.Value}\""))} in /metrics");

    /// <summary>The sum of the samples of <paramref name="name"/> that carry every one of <paramref name="labels"/>; 0 when there are none.</summary>
    public static double Sum(string metrics, string name, params (string Label, string Value)[] labels)
    {
        double sum = 0;
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length) continue;
            var rest = line[name.Length..];
            var set = "";
            if (rest[0] == '{')
            {
                var end = rest.LastIndexOf('}');
                set = "," + rest[1..end] + ",";
                rest = rest[(end + 1)..];
            }
            else if (rest[0] != ' ')
            {
                continue; // another metric whose name starts with this one
            }
            if (labels.All(l => set.Contains($",{l.Label}=\"{l.Value}\",", StringComparison.Ordinal)))
                sum += double.Parse(rest.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        return sum;
    }
}
