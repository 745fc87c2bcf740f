using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Jobs;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Api.OpenInference;
using FlightDelay.Api.Page;
using FlightDelay.Api.Predictions;

var builder = WebApplication.CreateBuilder(args);
builder.AddApi();

var app = builder.Build();
app.UseApi();
app.MapPage();
var api = app.MapClientApi();
api.MapPredictions();
api.MapModel();
api.MapJobs();
api.MapOpenInference();

app.Run();

public partial class Program;
