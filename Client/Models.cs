using System.Text.Json;
using System.Text.Json.Serialization;
using FlightDelay.Contracts;

namespace FlightDelay.Client;

/// <summary>
/// A flight to score: by name (<see cref="Airline"/>, <see cref="FlightType"/>, <see cref="Month"/>) or as the seed's 37
/// one-hot <see cref="Features"/>, never both. Build one with <see cref="Named"/> or <see cref="FromFeatures"/>.
/// </summary>
public sealed record Flight
{
    /// <summary>The airline as the model card lists it (e.g. <c>Grupo LATAM</c>); null for a flight given as features.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Airline { get; init; }

    /// <summary><c>I</c> (international) or <c>N</c> (national); null for a flight given as features.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FlightType { get; init; }

    /// <summary>The month, 1 to 12; null for a flight given as features.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Month { get; init; }

    /// <summary>The 37 one-hot numbers (23 airlines, 2 flight types, 12 months; README "The 37 features"); null for a named flight.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<float>? Features { get; init; }

    /// <summary>A flight by name.</summary>
    /// <param name="airline">The airline as the model card lists it.</param>
    /// <param name="flightType"><c>I</c> or <c>N</c>.</param>
    /// <param name="month">1 to 12.</param>
    public static Flight Named(string airline, string flightType, int month) => new() { Airline = airline, FlightType = flightType, Month = month };

    /// <summary>A flight as the seed's 37 numbers (the service checks count and values: a <c>400</c> otherwise).</summary>
    public static Flight FromFeatures(IReadOnlyList<float> features) => new() { Features = features };
}

/// <summary>
/// The model card of <c>GET /v1/model</c>: the serving model's version and test metrics, and the values a valid flight
/// may take. Fields the service adds later are kept in <see cref="Other"/>.
/// </summary>
public sealed record ModelDescription
{
    /// <summary>The model version, <c>m-</c> and 12 hex digits (derived from the model file's bytes).</summary>
    public string Version { get; init; } = "";

    /// <summary>The training algorithm, e.g. <c>LogisticRegression</c> or <c>FastTree</c>.</summary>
    public string Algorithm { get; init; } = "";

    /// <summary>When the model was trained.</summary>
    public DateTimeOffset TrainedAt { get; init; }

    /// <summary>Rows it was trained on.</summary>
    public int TrainRows { get; init; }

    /// <summary>Rows it was tested on.</summary>
    public int TestRows { get; init; }

    /// <summary>Its test metrics (fractions, 0 to 1).</summary>
    public ModelTestMetrics? Metrics { get; init; }

    /// <summary>The names of the 37 features, in order.</summary>
    public IReadOnlyList<string> FeatureNames { get; init; } = [];

    /// <summary>The airlines a named flight may give.</summary>
    public IReadOnlyList<string> Airlines { get; init; } = [];

    /// <summary>The flight types (<c>I</c>, <c>N</c>).</summary>
    public IReadOnlyList<string> FlightTypes { get; init; } = [];

    /// <summary>The months (1 to 12).</summary>
    public IReadOnlyList<int> Months { get; init; } = [];

    /// <summary>Every other field of the card, as JSON.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Other { get; init; }
}

/// <summary>A model's metrics on the test set: fractions from 0 to 1, for the delayed class.</summary>
public sealed record ModelTestMetrics
{
    /// <summary>Share of flights classified right.</summary>
    public double Accuracy { get; init; }

    /// <summary>Of flights flagged delayed, the share that were.</summary>
    public double Precision { get; init; }

    /// <summary>Of delayed flights, the share flagged.</summary>
    public double Recall { get; init; }

    /// <summary>Harmonic mean of precision and recall.</summary>
    public double F1 { get; init; }

    /// <summary>Area under the ROC curve.</summary>
    public double RocAuc { get; init; }
}

/// <summary>The formats an upload may come in; the content type sent follows from it.</summary>
public enum UploadFormat
{
    /// <summary>CSV (<c>text/csv</c>): a header <c>airline,flightType,month</c> in any order, or 37 numeric columns.</summary>
    Csv,

    /// <summary>JSON Lines (<c>application/x-ndjson</c>): one flight object per line.</summary>
    JsonLines,

    /// <summary>JSON (<c>application/json</c>): <c>{"flights": [...]}</c> as for predictions.</summary>
    Json,

    /// <summary>Apache Parquet (<c>application/vnd.apache.parquet</c>): columns <c>airline</c>, <c>flightType</c>, <c>month</c>, or 37 numeric columns.</summary>
    Parquet,
}

/// <summary>The formats a finished job's results can be downloaded in.</summary>
public enum ResultFormat
{
    /// <summary><c>results.csv</c>: <c>row,delayed,probability,model_version</c> (delayed as 0 or 1).</summary>
    Csv,

    /// <summary><c>results.jsonl</c>: one <c>{"row", "delayed", "probability", "modelVersion"}</c> per line.</summary>
    JsonLines,

    /// <summary><c>results.parquet</c>: columns row, delayed, probability, model_version (and airline, flightType, month with inputs).</summary>
    Parquet,
}

/// <summary>How an upload is compressed on the wire.</summary>
public enum UploadCompression
{
    /// <summary>gzip for text formats (CSV, JSON, JSON Lines: about a tenth of the bytes); none for Parquet, whose columns are compressed already.</summary>
    Auto,

    /// <summary>Always gzip (<c>Content-Encoding: gzip</c>).</summary>
    Gzip,

    /// <summary>Never.</summary>
    None,
}

/// <summary>Optional settings of a job submission.</summary>
public sealed record SubmitOptions
{
    /// <summary>
    /// Makes the submission safe to repeat: the service returns the original job for a repeated key and body (a
    /// <c>409</c> for another body). At most 200 characters. When null a new one is generated for the call, and every
    /// retry of that call sends it; give your own to make repeats across runs (a rerun script) safe too.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>What to call the job (at most 200 characters, shown in lists, searched by <c>q</c>, the stem of download file names). Default: the file's name when submitting a file.</summary>
    public string? Name { get; init; }

    /// <summary>False (default): one invalid row refuses the upload (a <c>400</c> listing the problems). True: valid rows are scored, invalid ones are listed by <see cref="FlightDelayClient.GetErrorsAsync"/>.</summary>
    public bool SkipInvalidRows { get; init; }

    /// <summary>
    /// The job's order among your own jobs when their chunks wait for your API key's dispatch window:
    /// <see cref="JobPriorities.Low"/>, <see cref="JobPriorities.Normal"/> (null: the service's default) or
    /// <see cref="JobPriorities.High"/>. Another key's jobs are served in turns beside yours whatever this says.
    /// </summary>
    public string? Priority { get; init; }

    /// <summary>An https URL on the service's allow-list to notify when the job ends (verify it with <see cref="WebhookVerifier"/>).</summary>
    public Uri? CallbackUrl { get; init; }

    /// <summary>How the upload is compressed; default <see cref="UploadCompression.Auto"/>.</summary>
    public UploadCompression Compression { get; init; } = UploadCompression.Auto;

    /// <summary>Reports the uncompressed bytes read from the source as the upload streams (restarting from 0 if it is retried).</summary>
    public IProgress<long>? UploadProgress { get; init; }
}

/// <summary>An accepted submission.</summary>
/// <param name="Job">The job as the <c>202</c> described it (status <c>queued</c>, or its present state when replayed).</param>
/// <param name="IdempotencyKey">The key the submission carried (the caller's or the generated one).</param>
/// <param name="Replayed">True when the service recognised the key and returned an existing job (<c>Idempotent-Replayed: true</c>).</param>
public sealed record JobSubmission(JobView Job, string IdempotencyKey, bool Replayed);

/// <summary>What <c>GET /v1/jobs</c> lists.</summary>
public sealed record JobListQuery
{
    /// <summary>Only jobs in this status (<see cref="JobStatuses"/>); null for all.</summary>
    public string? Status { get; init; }

    /// <summary>Only jobs whose name contains this text (any case).</summary>
    public string? Search { get; init; }

    /// <summary>Jobs to skip, newest first (default 0).</summary>
    public int Offset { get; init; }

    /// <summary>Page size, 1 to 100 (default 20).</summary>
    public int Limit { get; init; } = 20;
}

/// <summary>A snapshot of a job while <see cref="FlightDelayClient.WaitAsync"/> follows it.</summary>
/// <param name="Job">The job as last read.</param>
/// <param name="RowsDone">Rows finished with (scored plus failed).</param>
/// <param name="TotalRows">Rows in the job.</param>
/// <param name="RowsPerSecond">Rows finished per second over the last few seconds of progress; null until two readings differ.</param>
/// <param name="Remaining">Time left at that rate; null while the rate is unknown.</param>
/// <param name="Elapsed">Time since the wait began.</param>
public sealed record JobProgress(JobView Job, int RowsDone, int TotalRows, double? RowsPerSecond, TimeSpan? Remaining, TimeSpan Elapsed)
{
    /// <summary>RowsDone / TotalRows, 0 to 1 (1 for a job without rows).</summary>
    public double Fraction => TotalRows == 0 ? 1 : (double)RowsDone / TotalRows;
}
