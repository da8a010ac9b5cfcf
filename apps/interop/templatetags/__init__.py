"""Template tags of interop's admin."""
