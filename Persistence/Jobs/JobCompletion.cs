using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore.Query;

namespace FlightDelay.Persistence.Jobs;

/// <summary>
/// The one way a job becomes final (succeeded, failed or canceled): status and finish time, and, for a job with a
/// callback, its notification queued as pending and due now, in the same UPDATE. A job therefore never ends without
/// its callback on record (a durable outbox), and since every caller updates only an active job, it is queued once.
/// Callers count the job in <c>flightdelay.jobs.finished</c> only when their own update made it final (the update is
/// conditional, so they check), after the commit.
/// </summary>
public static class JobCompletion
{
    /// <summary>
    /// Sets the final <paramref name="status"/> on the rows the update's filter selects, or, with <paramref name="when"/>,
    /// only on those for which it holds (every SET reads the row as it was, so one condition decides all columns).
    /// </summary>
    public static UpdateSettersBuilder<Job> Finish(this UpdateSettersBuilder<Job> setters, JobStatus status, DateTime now, Expression<Func<Job, bool>>? when = null)
    {
        if (!Job.IsFinal(status)) throw new ArgumentException($"{status} is not a final status.", nameof(status));
        return setters
            .SetProperty(j => j.Status, If(when, _ => status, j => j.Status))
            .SetProperty(j => j.FinishedAt, If(when, _ => (DateTime?)now, j => j.FinishedAt))
            .SetProperty(j => j.CallbackState, If(when, j => j.CallbackUrl != null ? CallbackState.Pending : j.CallbackState, j => j.CallbackState))
            .SetProperty(j => j.CallbackNextAttemptAt, If(when, j => j.CallbackUrl != null ? now : j.CallbackNextAttemptAt, j => j.CallbackNextAttemptAt));
    }

    /// <summary><c>j => when(j) ? then(j) : otherwise(j)</c>, or just <paramref name="then"/> without a condition.</summary>
    private static Expression<Func<Job, T>> If<T>(Expression<Func<Job, bool>>? when, Expression<Func<Job, T>> then, Expression<Func<Job, T>> otherwise)
    {
        if (when is null) return then;
        var job = when.Parameters[0];
        return Expression.Lambda<Func<Job, T>>(
            Expression.Condition(when.Body, Rebind(then, job), Rebind(otherwise, job)), job);
    }

    private static Expression Rebind<T>(Expression<Func<Job, T>> lambda, ParameterExpression job) =>
        new Rebinder(lambda.Parameters[0], job).Visit(lambda.Body);

    private sealed class Rebinder(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
    }
}
