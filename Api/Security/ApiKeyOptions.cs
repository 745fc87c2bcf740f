using System.ComponentModel.DataAnnotations;

namespace FlightDelay.Api.Security;

/// <summary>
/// API keys, bound from <c>ApiKeys</c>. With none configured the API is open (the embedded default);
/// with any, every <c>/predict_api</c>, <c>/v1</c> and <c>/v2</c> call needs one in the <c>X-Api-Key</c> header.
/// Keys are stored as SHA-256 hashes, never in clear: <c>scripts/api-key</c> makes a key and its hash.
/// </summary>
public sealed class ApiKeyOptions
{
    public const string Section = "ApiKeys";
    public const string Header = "X-Api-Key";

    public List<ApiKeyEntry> Keys { get; set; } = [];

    /// <summary>
    /// Serve without keys on purpose. Outside Development and Testing the API refuses to start with no key unless this
    /// is set, so a missing keys Secret cannot silently open the API.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Put <c>/metrics</c> behind a key too.</summary>
    public bool ProtectMetrics { get; set; }

    public bool Enabled => Keys.Count > 0;
}

public sealed class ApiKeyEntry
{
    /// <summary>Names the client; jobs belong to it, logs and metrics name it. Never secret.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,100}$")]
    public string Id { get; set; } = "";

    /// <summary>Lower-case hex SHA-256 of the key.</summary>
    [Required, RegularExpression("^[0-9a-fA-F]{64}$")]
    public string Hash { get; set; } = "";

    /// <summary>The role an admin key's principal holds.</summary>
    public const string AdminRole = "admin";

    /// <summary>May change the model registry's roles (promote a version). Client keys never need it.</summary>
    public bool Admin { get; set; }
}
