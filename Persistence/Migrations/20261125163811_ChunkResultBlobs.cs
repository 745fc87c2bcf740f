using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ChunkResultBlobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "job_chunk_results",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    chunk_index = table.Column<int>(type: "integer", nullable: false),
                    results = table.Column<byte[]>(type: "bytea", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_chunk_results", x => new { x.job_id, x.chunk_index });
                    table.ForeignKey(
                        name: "fk_job_chunk_results_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Uncompressed out-of-line storage: 5-byte floats and flags barely compress, and PostgreSQL can then read a
            // slice of a blob (a page of results) without fetching the whole of it.
            migrationBuilder.Sql("ALTER TABLE job_chunk_results ALTER COLUMN results SET STORAGE EXTERNAL;");

            // Existing results move into their chunks' blobs (ResultBytes: big-endian float4 then 0 or 1, in row order).
            migrationBuilder.Sql("""
                INSERT INTO job_chunk_results (job_id, chunk_index, results)
                SELECT r.job_id, (r.row_number - 1) / j.chunk_size,
                       string_agg(float4send(r.probability) || CASE WHEN r.delayed THEN '\x01'::bytea ELSE '\x00'::bytea END, ''::bytea ORDER BY r.row_number)
                FROM job_results r JOIN jobs j ON j.id = r.job_id
                GROUP BY r.job_id, (r.row_number - 1) / j.chunk_size;
                """);

            migrationBuilder.DropTable(
                name: "job_results");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "job_results",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    row_number = table.Column<int>(type: "integer", nullable: false),
                    delayed = table.Column<bool>(type: "boolean", nullable: false),
                    probability = table.Column<float>(type: "real", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_results", x => new { x.job_id, x.row_number });
                });

            // Each blob back into rows; the float4 is rebuilt from its bits (probabilities are never negative or subnormal).
            migrationBuilder.Sql("""
                INSERT INTO job_results (job_id, row_number, delayed, probability)
                SELECT r.job_id, c.first_row + i, get_byte(r.results, i * 5 + 4) = 1,
                       CASE WHEN (bits >> 23) & 255 = 0 THEN 0
                            ELSE (1 + (bits & 8388607) / 8388608.0::float8) * power(2::float8, ((bits >> 23) & 255) - 127) END::real
                FROM job_chunk_results r
                JOIN job_chunks c ON c.job_id = r.job_id AND c.chunk_index = r.chunk_index
                CROSS JOIN LATERAL generate_series(0, length(r.results) / 5 - 1) AS i
                CROSS JOIN LATERAL (SELECT (get_byte(r.results, i * 5)::bigint << 24) | (get_byte(r.results, i * 5 + 1) << 16)
                                         | (get_byte(r.results, i * 5 + 2) << 8) | get_byte(r.results, i * 5 + 3) AS bits) AS b;
                """);

            migrationBuilder.DropTable(
                name: "job_chunk_results");
        }
    }
}
