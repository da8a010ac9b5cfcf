"""Imports of roadworks from configured sources (WZDx, DATEX II): fetch, validate, apply."""
