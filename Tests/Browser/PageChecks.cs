using System.Text.Json;
using Microsoft.Playwright;

namespace FlightDelay.Tests.Browser;

/// <summary>Checks every tab's tests make of the page: contrast, no sideways scroll on a phone, chart text size, accessible names.</summary>
internal static class PageChecks
{
    /// <summary>
    /// Fails for visible text whose colour has too little contrast with what is behind it (WCAG AA: 4.5:1, 3:1 for
    /// large text). The background is the nearest ancestor's opaque background colour.
    /// </summary>
    public static async Task AssertReadableAsync(IPage page)
    {
        var failures = await page.EvaluateAsync<string[]>("""
            () => {
              const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
              const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
                .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
              const background = (node) => {
                for (let n = node; n; n = n.parentElement) {
                  const c = rgb(getComputedStyle(n).backgroundColor);
                  if (c.length === 3 || c[3] > 0.9) return c.slice(0, 3);
                }
                return [255, 255, 255];
              };
              const failures = [];
              const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
              while (walker.nextNode()) {
                const node = walker.currentNode.parentElement;
                if (!walker.currentNode.textContent.trim() || node.closest("svg, [hidden], .visually-hidden") || !node.checkVisibility()) continue;
                const style = getComputedStyle(node);
                const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(node))];
                const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.6 && Number(style.fontWeight) >= 700);
                if (ratio < (large ? 3 : 4.5)) failures.push(`${ratio.toFixed(2)}: "${walker.currentNode.textContent.trim().slice(0, 40)}" in <${node.tagName.toLowerCase()} class="${node.className}">`);
              }
              return failures;
            }
            """);
        Assert.True(failures.Length == 0, "Text with too little contrast:\n" + string.Join("\n", failures));
    }

    public static async Task AssertFitsThePhoneAsync(IPage page) =>
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways");

    /// <summary>Every visible chart text renders at least this many CSS pixels tall: its font size times the SVG's scale.</summary>
    public static async Task AssertChartTextAtLeastAsync(IPage page, double pixels)
    {
        var sizes = await page.EvaluateAsync<JsonElement>("""
            () => [...document.querySelectorAll("svg.chart-svg")].filter((s) => s.checkVisibility()).flatMap((s) => {
              const scale = s.getBoundingClientRect().width / s.viewBox.baseVal.width;
              return [...s.querySelectorAll("text")].map((t) => ({ text: t.textContent, size: parseFloat(getComputedStyle(t).fontSize) * scale }));
            })
            """);
        var all = sizes.EnumerateArray().Select(s => (Text: s.GetProperty("text").GetString(), Size: s.GetProperty("size").GetDouble())).ToList();
        Assert.NotEmpty(all);
        var small = all.Where(s => s.Size < pixels).ToList();
        Assert.True(small.Count == 0, "chart text under " + pixels + " px: " + string.Join(", ", small.Take(10).Select(s => $"'{s.Text}' {s.Size:0.0}px")));
    }

    /// <summary>Links and buttons that show text have an accessible name that starts with it (WCAG 2.5.3, label in name).</summary>
    public static async Task AssertAccessibleNamesStartWithTheirTextAsync(IPage page)
    {
        var mismatches = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll("a, button")].filter((e) => e.checkVisibility()).flatMap((e) => {
              const text = e.innerText.trim().replace(/\s+/g, " ");
              const label = e.getAttribute("aria-label") ?? (e.getAttribute("aria-labelledby") ? e.getAttribute("aria-labelledby").split(" ").map((id) => document.getElementById(id)?.innerText || "").join(" ") : null);
              return text && label !== null && !label.trim().toLowerCase().startsWith(text.toLowerCase()) ? [`"${text}" is named "${label}"`] : [];
            })
            """);
        Assert.True(mismatches.Length == 0, string.Join("\n", mismatches));
    }
}
