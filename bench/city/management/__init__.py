"""Management commands of the bench city."""
