"""Management commands of the demo city."""
