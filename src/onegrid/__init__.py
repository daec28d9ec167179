"""OneGrid: one network for a city's urban management."""

__version__ = "0.1.0"
