"""``seed_demo``."""
