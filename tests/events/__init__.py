"""Tests of apps.events."""
