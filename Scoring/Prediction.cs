namespace FlightDelay.Scoring;

/// <summary>One scored flight: delayed more than 15 minutes, and the model's probability of that.</summary>
public readonly record struct Prediction(bool Delayed, float Probability);
