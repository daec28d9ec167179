"""Cases: the case aggregate, its workflow, the working-time clock and the append-only history."""
