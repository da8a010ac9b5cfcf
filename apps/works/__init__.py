"""Roadworks and work sites on public space."""
