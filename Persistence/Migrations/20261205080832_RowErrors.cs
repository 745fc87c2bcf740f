using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RowErrors : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "invalid_rows",
                table: "job_chunks",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "job_row_errors",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    row = table.Column<int>(type: "integer", nullable: false),
                    where = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    message = table.Column<string>(type: "character varying(1000)", maxLength: 1000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_row_errors", x => new { x.job_id, x.row });
                    table.ForeignKey(
                        name: "fk_job_row_errors_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "job_row_errors");

            migrationBuilder.DropColumn(
                name: "invalid_rows",
                table: "job_chunks");
        }
    }
}
