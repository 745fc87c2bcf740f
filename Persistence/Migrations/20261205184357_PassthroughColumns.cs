using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class PassthroughColumns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "passthrough_columns",
                table: "jobs",
                type: "character varying(20000)",
                maxLength: 20000,
                nullable: true);

            migrationBuilder.AddColumn<byte[]>(
                name: "passthrough",
                table: "job_inputs",
                type: "bytea",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "passthrough_columns",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "passthrough",
                table: "job_inputs");
        }
    }
}
