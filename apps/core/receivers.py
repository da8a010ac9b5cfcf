"""Receivers of the core: content writes and taxonomy changes invalidate cached API responses
and pre-rendered items."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from apps.core.api.fragments import (
    fragments_invalidate,
    fragments_render_later,
    fragments_rerender,
)
from apps.core.api.response_cache import generations_bump
from apps.core.models import Area, Category, Organization
from apps.core.registry import content_type_codes
from apps.core.signals import content_saved, contents_saved


@receiver(content_saved, dispatch_uid="core.response_cache_content_saved")
@receiver(contents_saved, dispatch_uid="core.response_cache_contents_saved")
def response_cache_content_saved(sender: Any, item_type: str, **kwargs: Any) -> None:
    """Any write to an item (publish, edit, archive, unpublish, delete) renews its type."""
    generations_bump([item_type])


@receiver(content_saved, dispatch_uid="core.fragments_content_saved")
def fragments_content_saved(sender: Any, item_type: str, item_id: int, **kwargs: Any) -> None:
    """An item published or edited: its JSON is rendered in the background once the write
    commits (an item no longer public renders nothing), not by its first reader."""
    fragments_render_later(item_type, [item_id])


@receiver(contents_saved, dispatch_uid="core.fragments_contents_saved")
def fragments_contents_saved(
    sender: Any, item_type: str, item_ids: list[int], **kwargs: Any
) -> None:
    """A batch of items written (a bulk import): rendered in tasks of bounded size."""
    fragments_render_later(item_type, item_ids)


def response_cache_taxonomy_changed(sender: Any, **kwargs: Any) -> None:
    """Items embed their category and publisher, and lists filter by area: renew every type."""
    generations_bump(content_type_codes())


def fragments_taxonomy_changed(sender: Any, created: bool = False, **kwargs: Any) -> None:
    """Items embed category and organization names (details: areas): every fragment is stale.

    A new category, organization or area is embedded by nothing yet: nothing to do.
    """
    if created:
        return
    fragments_invalidate(content_type_codes())
    fragments_rerender()


for _model in (Category, Organization, Area):
    post_save.connect(
        response_cache_taxonomy_changed, sender=_model, dispatch_uid=f"core.cache.save.{_model}"
    )
    post_delete.connect(
        response_cache_taxonomy_changed, sender=_model, dispatch_uid=f"core.cache.del.{_model}"
    )
    post_save.connect(
        fragments_taxonomy_changed, sender=_model, dispatch_uid=f"core.fragments.save.{_model}"
    )
    post_delete.connect(
        fragments_taxonomy_changed, sender=_model, dispatch_uid=f"core.fragments.del.{_model}"
    )
