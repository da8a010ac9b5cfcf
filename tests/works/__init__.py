"""Tests of apps.works."""
