"""Management commands of residents."""
