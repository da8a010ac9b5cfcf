"""Residents without accounts: devices, places, interests, preferences, saved items, GDPR."""
