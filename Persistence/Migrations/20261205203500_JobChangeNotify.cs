using FlightDelay.Persistence;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace FlightDelay.Persistence.Migrations
{
    /// <summary>
    /// A trigger that sends <c>NOTIFY job_changed, '&lt;job id&gt;'</c> when a job's status or progress changes, or the
    /// job is removed, whichever process made the change: the API's long polls (<c>Prefer: wait</c>) listen for it.
    /// PostgreSQL delivers it at commit, and not at all for a rolled-back change. No model change.
    /// </summary>
    [DbContext(typeof(JobsDbContext))]
    [Migration("20261205203500_JobChangeNotify")]
    public partial class JobChangeNotify : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE FUNCTION jobs_notify_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('job_changed', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
                    RETURN NULL;
                END $$;

                CREATE TRIGGER jobs_changed AFTER UPDATE ON jobs FOR EACH ROW
                    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.processed_rows IS DISTINCT FROM NEW.processed_rows
                          OR OLD.failed_rows IS DISTINCT FROM NEW.failed_rows)
                    EXECUTE FUNCTION jobs_notify_changed();

                CREATE TRIGGER jobs_removed AFTER DELETE ON jobs FOR EACH ROW
                    WHEN (OLD.status <> 'Receiving')
                    EXECUTE FUNCTION jobs_notify_changed();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER jobs_removed ON jobs;
                DROP TRIGGER jobs_changed ON jobs;
                DROP FUNCTION jobs_notify_changed();
                """);
        }
    }
}
