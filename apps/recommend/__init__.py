"""Recommender: the interaction log (ranking, features and evaluation come on top of it)."""
