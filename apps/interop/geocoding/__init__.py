"""Geocoding: addresses and street names to positions, for staff and app developers."""
