"""Receivers of events: a venue change renews cached event responses and pre-rendered events
(they embed the venue)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.core.api.fragments import fragments_invalidate, fragments_rerender
from apps.core.api.response_cache import generations_bump
from apps.events.models import Venue


@receiver(post_save, sender=Venue, dispatch_uid="events.response_cache_venue_saved")
@receiver(post_delete, sender=Venue, dispatch_uid="events.response_cache_venue_deleted")
def response_cache_venue_changed(sender: Any, **kwargs: Any) -> None:
    generations_bump(["events"])


@receiver(post_save, sender=Venue, dispatch_uid="events.fragments_venue_saved")
@receiver(post_delete, sender=Venue, dispatch_uid="events.fragments_venue_deleted")
def fragments_venue_changed(sender: Any, created: bool = False, **kwargs: Any) -> None:
    """A new venue is embedded by no event yet; an edited or removed one by some."""
    if created:
        return
    fragments_invalidate(["events"])
    fragments_rerender(["events"])
