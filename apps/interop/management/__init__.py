"""Management commands of interop."""
