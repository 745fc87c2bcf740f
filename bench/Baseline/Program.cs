using System.Text.Json;
using System.Text.Json.Serialization;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, BaselineJson.Default));
var app = builder.Build();

// Any fixed weights: the work is what matters, not the answer.
var weights = Enumerable.Range(0, 37).Select(i => (float)Math.Sin(i)).ToArray();
var delayed = "\"1\"\n"u8.ToArray();
var onTime = "\"0\"\n"u8.ToArray();

app.MapPost("/predict_api", async (HttpRequest request) =>
{
    var body = await JsonSerializer.DeserializeAsync(request.Body, BaselineJson.Default.SeedBody);
    if (body?.Data is not { Length: 37 } data) return Results.BadRequest();
    var score = 0f;
    for (var i = 0; i < 37; i++) score += weights[i] * data[i];
    return Results.Bytes(score > 0 ? delayed : onTime, "application/json");
});
app.Run();

internal sealed record SeedBody(float[] Data);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(SeedBody))]
internal sealed partial class BaselineJson : JsonSerializerContext;
