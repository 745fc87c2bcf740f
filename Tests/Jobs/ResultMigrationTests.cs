using FlightDelay.Persistence;
using FlightDelay.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace FlightDelay.Tests.Jobs;

/// <summary>The ChunkResultBlobs migration keeps the results a database already holds, both ways, bit for bit.</summary>
[Collection(PipelineCollection.Name)]
public sealed class ResultMigrationTests
{
    private const string BeforeBlobs = "20261125143604_JobCallbacks";

    [Fact]
    public async Task Row_results_move_into_chunk_blobs_and_back_unchanged()
    {
        var admin = await TestServices.PostgresAsync();
        var (database, connectionString) = await TestDatabases.CreateAsync(admin, "fd_migrate");
        try
        {
            await using var db = new JobsDbContext(new DbContextOptionsBuilder<JobsDbContext>()
                .UseNpgsql(connectionString).UseSnakeCaseNamingConvention().Options);
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync(BeforeBlobs);

            // A job of 5 rows in chunks of 2 whose results were stored as rows, one chunk still unscored.
            var id = Guid.NewGuid();
            float[] probabilities = [0f, 1f, 0.123456789f, 0.5f, 1e-7f];
            await TestDatabases.ExecuteAsync(connectionString, """
                INSERT INTO jobs (id, status, total_rows, processed_rows, failed_rows, chunk_size, chunk_count, chunks_done, created_at, owner, callback_attempts)
                VALUES (@id, 'Running', 5, 4, 0, 2, 3, 2, now(), '', 0);
                INSERT INTO job_chunks (job_id, chunk_index, first_row, row_count, status, attempts, dispatched_at)
                VALUES (@id, 0, 1, 2, 'Done', 1, now()), (@id, 1, 3, 2, 'Done', 1, now()), (@id, 2, 5, 1, 'Pending', 0, now());
                """, ("id", id));
            for (var row = 1; row <= 4; row++)
                await TestDatabases.ExecuteAsync(connectionString, $"INSERT INTO job_results VALUES (@id, {row}, {(row % 2 == 0 ? "true" : "false")}, @p)",
                    ("id", id), ("p", probabilities[row - 1]));

            await migrator.MigrateAsync();
            // Uncompressed out of line, so a page's substr reads only its bytes.
            Assert.Equal('e', await TestDatabases.ScalarAsync(connectionString,
                "SELECT attstorage FROM pg_attribute WHERE attrelid = 'job_chunk_results'::regclass AND attname = 'results'"));
            var stored = await StoredResults.ReadAsync(connectionString, id);
            Assert.Equal(
                Enumerable.Range(1, 4).Select(row => new StoredResults.Row(row, row % 2 == 0, probabilities[row - 1])),
                stored);

            await migrator.MigrateAsync(BeforeBlobs);
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT row_number, delayed, probability FROM job_results WHERE job_id = @id ORDER BY row_number", connection);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync();
            var back = new List<StoredResults.Row>();
            while (await reader.ReadAsync()) back.Add(new StoredResults.Row(reader.GetInt32(0), reader.GetBoolean(1), reader.GetFloat(2)));
            Assert.Equal(stored, back);
        }
        finally
        {
            await TestDatabases.DropAsync(admin, database);
        }
    }
}
