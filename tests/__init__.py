"""Quartier's test suite; mirrors apps/."""
