"""Template tags of the notifications admin."""
