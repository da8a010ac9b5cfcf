"""Helpers for API tests: published content built through the services, and API clients."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Organization
from apps.core.services import api_key_create, content_publish, content_save
from apps.events.models import Event
from apps.events.services import event_save
from apps.news.models import News
from apps.works.models import Works
from apps.works.services import works_save
from tests.factories import EventFactory, NewsFactory, WorksFactory


def published_news(**fields: Any) -> News:
    """A news article saved (areas computed) and published through the services."""
    news = NewsFactory.build(**_related(fields))
    content_save(item=news)
    return content_publish(item=news)  # type: ignore[return-value]


def published_works(**fields: Any) -> Works:
    works = WorksFactory.build(**_related(fields))
    works_save(works=works)
    return content_publish(item=works)  # type: ignore[return-value]


def published_event(**fields: Any) -> Event:
    """An event saved with its occurrences and published."""
    fields.setdefault("start_at", timezone.now() + timedelta(days=2))
    fields.setdefault("end_at", fields["start_at"] + timedelta(hours=2))
    event = EventFactory.build(**_related(fields))
    event_save(event=event)
    return content_publish(item=event)  # type: ignore[return-value]


def _related(fields: dict[str, Any]) -> dict[str, Any]:
    """``build`` would leave sub-factories unsaved: create the category and organization."""
    from tests.factories import CategoryFactory, OrganizationFactory

    fields.setdefault("category", CategoryFactory())
    fields.setdefault("organization", OrganizationFactory())
    return fields


def key_client(organization: Organization) -> APIClient:
    """A client authenticated with a new API key of ``organization``."""
    _key, raw = api_key_create(organization=organization, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client
