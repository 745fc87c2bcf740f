namespace FlightDelay.Api.Infrastructure;

/// <summary>
/// Who is calling, bound once per request as an endpoint parameter: <see cref="Owner"/> is the authenticated API key's
/// id, or empty when no keys are configured (then every caller shares one owner). Jobs belong to their owner.
/// </summary>
public sealed record CurrentClient(string Owner)
{
    /// <summary>Minimal APIs' binding hook: reads the principal the API-key middleware set.</summary>
    public static ValueTask<CurrentClient?> BindAsync(HttpContext context) =>
        ValueTask.FromResult<CurrentClient?>(new CurrentClient(context.User.Identity?.Name ?? ""));
}
