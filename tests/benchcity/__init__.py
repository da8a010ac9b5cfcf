"""Tests of the bench city generator and the diagnostics endpoints."""
