"""Residents for tests: devices registered through the real service, with their token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import factory
from rest_framework.test import APIClient

from apps.core.geo import point
from apps.core.services import content_publish
from apps.residents.models import Device, Place
from apps.residents.services import device_preferences_update, device_register
from tests.factories import CENTRE_LAT, CENTRE_LON


@dataclass
class Resident:
    """A registered device, its bearer token (as the app holds it) and an authenticated client."""

    device: Device
    token: str
    client: APIClient

    def refresh(self) -> Device:
        self.device.refresh_from_db()
        return self.device


def bearer_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def make_resident(
    *, platform: str = "android", push_token: str | None = None, **preferences: Any
) -> Resident:
    """Register a device with ``device_register``; ``preferences`` go through the service too."""
    device, token = device_register(platform=platform, push_token=push_token)
    if preferences:
        device = device_preferences_update(device=device, changes=preferences)
    return Resident(device=device, token=token, client=bearer_client(token))


class PlaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Place

    label = "home"
    location = factory.LazyFunction(lambda: point(CENTRE_LON, CENTRE_LAT))
    radius_m = 500


def published(item: Any) -> Any:
    """Publish a factory-made draft through the lifecycle service."""
    return content_publish(item=item)
