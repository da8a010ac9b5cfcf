"""Recommender tests."""
