"""Recommender API v1: the interaction log and the feed."""
