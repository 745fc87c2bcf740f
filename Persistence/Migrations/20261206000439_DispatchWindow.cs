using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <summary>
    /// Fair scheduling (Jobs:DispatchWindow): a job's <c>priority</c> among its owner's jobs (-1 low, 0 normal, 1 high),
    /// and <c>job_chunks.dispatched_at</c> null for a chunk held until its owner's window has room. Existing chunks were
    /// all sent, so they keep their times.
    /// </summary>
    public partial class DispatchWindow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "priority",
                table: "jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AlterColumn<DateTime>(
                name: "dispatched_at",
                table: "job_chunks",
                type: "timestamp with time zone",
                nullable: true,
                oldClrType: typeof(DateTime),
                oldType: "timestamp with time zone");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "priority",
                table: "jobs");

            migrationBuilder.AlterColumn<DateTime>(
                name: "dispatched_at",
                table: "job_chunks",
                type: "timestamp with time zone",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified),
                oldClrType: typeof(DateTime),
                oldType: "timestamp with time zone",
                oldNullable: true);
        }
    }
}
