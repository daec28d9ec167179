"""Tables of the assets context."""
