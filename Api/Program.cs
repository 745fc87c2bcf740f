using FlightDelay.Api.Infrastructure;
using FlightDelay.Api.Jobs;
using FlightDelay.Api.ModelInfo;
using FlightDelay.Api.OpenInference;
using FlightDelay.Api.Page;
using FlightDelay.Api.Predictions;
using FlightDelay.ServiceDefaults;

// The container health check of the chiseled image (no shell, no curl): `probe URL` asks it and exits.
if (args is ["probe", var url]) return await ServiceDefaults.ProbeAsync(url);

var builder = WebApplication.CreateBuilder(ApiServices.HostOptions(args));
builder.AddApi();

var app = builder.Build();
app.UseApi();
app.MapPage();
var api = app.MapClientApi();
api.MapPredictions();
api.MapModel();
api.MapModelRegistry();
api.MapJobs();
api.MapOpenInference();

app.Run();
return 0;

public partial class Program;
