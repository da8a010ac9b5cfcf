"""Resident API v1: device registration and the ``/me/`` routes."""
