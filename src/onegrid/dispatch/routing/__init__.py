"""Routing (派单): which unit a case goes to, and the rule that said so."""
