"""Tables of the people context."""
