"""Fault injection: real servers with faults, what the client sees, nothing lost."""
