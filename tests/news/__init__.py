"""Tests of apps.news."""
