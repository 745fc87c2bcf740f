using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FlightDelay.Persistence;

/// <summary>What a database error means, the same question answered for PostgreSQL and SQLite in one place.</summary>
public static class DatabaseErrors
{
    /// <summary>The write referred to a row that is not there (PostgreSQL 23503, SQLite's foreign key constraint error).</summary>
    public static bool IsForeignKeyViolation(DbUpdateException exception) => exception.InnerException switch
    {
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.ForeignKeyViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode == 787, // SQLITE_CONSTRAINT_FOREIGNKEY
        _ => false,
    };

    /// <summary>The write would make two rows equal under a unique key or index (PostgreSQL 23505, SQLite's unique or primary key constraint error).</summary>
    public static bool IsUniqueViolation(Exception exception) => exception switch
    {
        DbUpdateException { InnerException: { } inner } => IsUniqueViolation(inner),
        PostgresException postgres => postgres.SqlState == PostgresErrorCodes.UniqueViolation,
        SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 2067 or 1555, // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
        _ => false,
    };

    /// <summary>
    /// A fault that the same statement may not meet again: a dropped connection, a failover, a timeout, a deadlock or
    /// serialization failure, SQLite's busy or locked database. Worth retrying within a chunk's lease.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        DbUpdateException { InnerException: { } inner } => IsTransient(inner),
        InvalidOperationException { InnerException: { } inner } => IsTransient(inner), // EF's "an exception was thrown while reading"
        NpgsqlException npgsql => npgsql.IsTransient,
        SqliteException sqlite => sqlite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        DbException db => db.IsTransient,
        TimeoutException => true,
        _ => false,
    };
}
