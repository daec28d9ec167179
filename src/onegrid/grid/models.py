"""Tables of the grid context."""
