"""Quartier Django apps."""
