namespace FlightDelay.Tests.Support;

/// <summary>Waiting for something that happens asynchronously: poll until true, fail at a deadline, never a blind sleep.</summary>
public static class Poll
{
    public static async Task<T> UntilAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last;
        while (true)
        {
            last = await probe();
            if (done(last)) return last;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0}s waiting for {what}; last seen: {last}");
            await Task.Delay(100);
        }
    }
}
