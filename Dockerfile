# syntax=docker/dockerfile:1
# FlightDelay's two images from one file, built from the repository root:
#   docker build --target api -t flightdelay-api .
#   docker build --target worker -t flightdelay-worker .
# One SDK stage restores and publishes both projects (framework-dependent, for the target architecture only); the
# images run on the chiseled ASP.NET runtime (no shell, no package manager, non-root by default: less to patch and
# nothing to exec into). The trained model is baked in.

ARG DOTNET_VERSION=10.0

# The build runs on the builder's own platform and cross-targets with -a, so multi-arch builds need no emulation.
FROM --platform=$BUILDPLATFORM mcr.microsoft.com/dotnet/sdk:${DOTNET_VERSION} AS build
ARG TARGETARCH
WORKDIR /src
# Restore from the project files alone, so the package layer is reused until a project file changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Contracts/FlightDelay.Contracts.csproj Contracts/
COPY Scoring/FlightDelay.Scoring.csproj Scoring/
COPY Persistence/FlightDelay.Persistence.csproj Persistence/
COPY Processing/FlightDelay.Processing.csproj Processing/
COPY ServiceDefaults/FlightDelay.ServiceDefaults.csproj ServiceDefaults/
COPY Api/FlightDelay.Api.csproj Api/
COPY Worker/FlightDelay.Worker.csproj Worker/
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet restore Api/FlightDelay.Api.csproj -a "$TARGETARCH" \
    && dotnet restore Worker/FlightDelay.Worker.csproj -a "$TARGETARCH"
COPY Contracts/ Contracts/
COPY Scoring/ Scoring/
COPY Persistence/ Persistence/
COPY Processing/ Processing/
COPY ServiceDefaults/ ServiceDefaults/
COPY Api/ Api/
COPY Worker/ Worker/

FROM build AS publish-api
# The model (Scoring/Model) is published beside the binaries; fail the build rather than ship an image without it.
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish Api/FlightDelay.Api.csproj -c Release -a "$TARGETARCH" --no-restore -o /app -p:UseAppHost=false \
    && test -s /app/Model/model.zip && test -s /app/Model/model-card.json

FROM build AS publish-worker
RUN --mount=type=cache,id=nuget,target=/root/.nuget/packages \
    dotnet publish Worker/FlightDelay.Worker.csproj -c Release -a "$TARGETARCH" --no-restore -o /app -p:UseAppHost=false \
    && test -s /app/Model/model.zip && test -s /app/Model/model-card.json

# Chiseled: runs as the non-root user $APP_UID (1654, numeric, so Kubernetes' runAsNonRoot can verify it); the
# binaries stay root-owned and read-only to it. No shell or curl: the health check is the app's own `probe` command.
FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS api
LABEL org.opencontainers.image.title="flightdelay-api" \
      org.opencontainers.image.description="FlightDelay API: flight delay predictions (sync, Open Inference Protocol) and batch jobs"
WORKDIR /app
COPY --from=publish-api /app .
# The embedded default (no connection strings) keeps its SQLite file in /tmp: /app is read-only to the app user.
ENV ASPNETCORE_HTTP_PORTS=8080 \
    ConnectionStrings__Sqlite="Data Source=/tmp/flightdelay.db"
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "FlightDelay.Api.dll", "probe", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "FlightDelay.Api.dll"]

FROM mcr.microsoft.com/dotnet/aspnet:${DOTNET_VERSION}-noble-chiseled AS worker
LABEL org.opencontainers.image.title="flightdelay-worker" \
      org.opencontainers.image.description="FlightDelay worker: scores batch-job chunks from RabbitMQ into PostgreSQL; also runs migrate"
WORKDIR /app
COPY --from=publish-worker /app .
ENV ASPNETCORE_HTTP_PORTS=8080
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["dotnet", "FlightDelay.Worker.dll", "probe", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "FlightDelay.Worker.dll"]
