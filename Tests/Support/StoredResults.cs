using FlightDelay.Persistence;
using Npgsql;

namespace FlightDelay.Tests.Support;

/// <summary>A job's results as PostgreSQL holds them, decoded: what the exactly-once checks compare.</summary>
public static class StoredResults
{
    public sealed record Row(int Number, bool Delayed, float Probability);

    /// <summary>Every stored result of the job in row order; fails if a chunk's blob does not hold exactly its rows.</summary>
    public static async Task<IReadOnlyList<Row>> ReadAsync(string connectionString, Guid jobId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT c.chunk_index, c.first_row, c.row_count, r.results
            FROM job_chunk_results r JOIN job_chunks c USING (job_id, chunk_index)
            WHERE r.job_id = @id ORDER BY r.chunk_index
            """, connection);
        command.Parameters.AddWithValue("id", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Row>();
        while (await reader.ReadAsync())
        {
            var blob = (byte[])reader[3];
            Assert.True(ResultBytes.RowCount(blob) == reader.GetInt32(2), $"chunk {reader.GetInt32(0)} stores {ResultBytes.RowCount(blob)} results for {reader.GetInt32(2)} rows");
            for (var i = 0; i < reader.GetInt32(2); i++)
            {
                var (delayed, probability) = ResultBytes.Read(blob, i);
                rows.Add(new Row(reader.GetInt32(1) + i, delayed, probability));
            }
        }
        return rows;
    }

    /// <summary>Rows 1..<paramref name="rows"/> each have exactly one result; returns them in row order.</summary>
    public static async Task<IReadOnlyList<Row>> AssertExactlyOnePerRowAsync(string connectionString, Guid jobId, int rows)
    {
        var stored = await ReadAsync(connectionString, jobId);
        Assert.Equal(Enumerable.Range(1, rows), stored.Select(r => r.Number));
        return stored;
    }
}
