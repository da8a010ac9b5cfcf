"""Resident API of the push pipeline: ``/api/v1/me/notifications/``."""
