"""Personalised feed: candidates, features, ranking models, explanations and their evaluation."""
