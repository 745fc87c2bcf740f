using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class JobCallbacks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "callback_attempts",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "callback_next_attempt_at",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "callback_state",
                table: "jobs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "callback_url",
                table: "jobs",
                type: "character varying(2048)",
                maxLength: 2048,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "job_callback_attempts",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    attempt = table.Column<int>(type: "integer", nullable: false),
                    delivery_id = table.Column<Guid>(type: "uuid", nullable: false),
                    attempted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    error = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    duration_ms = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_callback_attempts", x => new { x.job_id, x.attempt });
                    table.ForeignKey(
                        name: "fk_job_callback_attempts_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_callback_state_callback_next_attempt_at",
                table: "jobs",
                columns: new[] { "callback_state", "callback_next_attempt_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "job_callback_attempts");

            migrationBuilder.DropIndex(
                name: "ix_jobs_callback_state_callback_next_attempt_at",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "callback_attempts",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "callback_next_attempt_at",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "callback_state",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "callback_url",
                table: "jobs");
        }
    }
}
