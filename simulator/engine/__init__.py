"""The engine: random streams, population, the monthly kernel and its results."""
