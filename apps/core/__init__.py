"""Shared mechanics: publishers, territory, taxonomy, the publishable geo-content base."""
