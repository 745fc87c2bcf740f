using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using FlightDelay.Tests.Support;

namespace FlightDelay.Tests.Api;

/// <summary>
/// The README's examples are run against the embedded API and their answers compared with the ones the README shows:
/// every <c>curl</c> command followed by a <c># answer</c> comment, where <c>...</c> in the answer stands for anything.
/// A README that shows a wrong vector or a wrong answer fails here.
/// </summary>
public sealed partial class ReadmeExamplesTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _api = factory.CreateClient();

    public static TheoryData<int, string, string> Examples()
    {
        var data = new TheoryData<int, string, string>();
        foreach (var (line, command, answer) in Read(File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "README.md"))))
            data.Add(line, command, answer);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task The_readme_example_answers_as_shown(int line, string command, string answer)
    {
        var request = ToRequest(command);

        var response = await _api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        // The shown answer, with "..." for any text; JSON spacing in the README is for reading.
        var expected = string.Join(".*", answer.Split("...").Select(part => Regex.Escape(Squeeze(part))));
        Assert.True(Regex.IsMatch(Squeeze(body), "^" + expected + "$", RegexOptions.Singleline),
            $"README line {line}: {command}\nshows {answer}\nbut the API answered {(int)response.StatusCode}: {body}");
    }

    [Fact]
    public void The_readme_has_examples_to_check()
    {
        Assert.True(Examples().Count >= 4, "README examples with answers were not found");
    }

    /// <summary>Each curl command (joined across <c>\</c> line ends and open quotes) with the <c># </c> lines right after it, when it needs no files or ids.</summary>
    private static IEnumerable<(int Line, string Command, string Answer)> Read(string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("curl ", StringComparison.Ordinal)) continue;
            var start = i;
            var command = lines[i];
            // A command goes on past a "\" line end, or while a quoted argument is open.
            while ((command.EndsWith('\\') || command.Count(c => c == '\'') % 2 == 1) && i + 1 < lines.Length)
                command = command.TrimEnd('\\') + " " + lines[++i].Trim();
            var answer = new StringBuilder();
            while (i + 1 < lines.Length && lines[i + 1].StartsWith("# ", StringComparison.Ordinal)) answer.Append(lines[++i][2..].Trim());
            if (answer.Length == 0 || command.Contains('@') || command.Contains(" -i", StringComparison.Ordinal) || JobId().IsMatch(command)) continue;
            yield return (start + 1, command, answer.ToString());
        }
    }

    /// <summary>The parts of a curl command the README uses: the URL, <c>-X</c>, <c>-H</c> and <c>-d</c>.</summary>
    private static HttpRequestMessage ToRequest(string command)
    {
        var words = CurlWords().Matches(command).Select(m => m.Groups["q"].Success ? m.Groups["q"].Value : m.Value).ToList();
        var url = words.First(w => w.StartsWith("localhost:", StringComparison.Ordinal) || w.StartsWith("'localhost:", StringComparison.Ordinal));
        var path = url[(url.IndexOf('/', StringComparison.Ordinal))..];
        var method = words.IndexOf("-X") is >= 0 and var x ? new HttpMethod(words[x + 1]) : words.Contains("-d") ? HttpMethod.Post : HttpMethod.Get;
        var request = new HttpRequestMessage(method, path);
        string? contentType = null;
        for (var w = 0; w < words.Count - 1; w++)
        {
            if (words[w] != "-H") continue;
            var (name, value) = (words[w + 1][..words[w + 1].IndexOf(':', StringComparison.Ordinal)], words[w + 1][(words[w + 1].IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
            if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) contentType = value;
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        if (words.IndexOf("-d") is >= 0 and var d)
        {
            request.Content = new StringContent(words[d + 1], Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType ?? "application/x-www-form-urlencoded");
        }
        return request;
    }

    private static string Squeeze(string json) => Whitespace().Replace(json, "");

    [GeneratedRegex(@"'(?<q>[^']*)'|\S+")]
    private static partial Regex CurlWords();

    [GeneratedRegex(@"[0-9a-f]{8}-[0-9a-f]{4}-")]
    private static partial Regex JobId();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
