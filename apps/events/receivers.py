"""Receivers of events: a venue change renews cached event responses (they embed the venue)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.core.api.response_cache import generations_bump
from apps.events.models import Venue


@receiver(post_save, sender=Venue, dispatch_uid="events.response_cache_venue_saved")
@receiver(post_delete, sender=Venue, dispatch_uid="events.response_cache_venue_deleted")
def response_cache_venue_changed(sender: Any, **kwargs: Any) -> None:
    generations_bump(["events"])
