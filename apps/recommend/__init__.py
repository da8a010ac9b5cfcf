"""Recommender: interaction log, candidates, features, ranking, explanations, evaluation."""
