"""Recommender API v1: the interaction log (the feed comes later in this package)."""
