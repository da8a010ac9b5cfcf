"""The public register of pushes (issue 18, item 5; CRPA L311-3-1 on public algorithms): every
push the city sent about an item, with who published it, whom it targeted and how many devices
it reached, for anyone to read as JSON, CSV or a web page.

Listed: notifications of kind new, update and reminder that reached at least one device. Not
listed: staff test pushes (one phone), digests (a summary addressed to one device) — and drills,
which reach only enrolled test phones. The number reached is the notification's own counter
(``Notification.reached``, kept after the deliveries are purged), shown through the same
disclosure control as the staff pages (masked below 5, rounded to 5 by a key drawn from the
secret, the notification and the value). The targeting criteria are the item's: its areas (as
computed from its geometry; none means the whole city), its category and its urgency. The
title is the one the push carried (French and English), so the register says what was sent even
if the item was edited or withdrawn since.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from apps.core.disclosure import Cell, count_show, counter_key
from apps.core.models import Urgency
from apps.core.registry import content_models
from apps.notifications.models import Kind, Notification

#: The kinds of push the register lists.
LISTED_KINDS = (Kind.NEW, Kind.UPDATE, Kind.REMINDER)


def register_notifications(*, since: datetime | None = None) -> QuerySet[Notification]:
    """The listed notifications, newest first sent first (``id`` breaks ties)."""
    rows = Notification.objects.filter(
        kind__in=LISTED_KINDS, reached__gt=0, first_sent_at__isnull=False
    ).exclude(item_type="")
    if since is not None:
        rows = rows.filter(first_sent_at__gte=since)
    return rows.order_by("-first_sent_at", "-id")


@dataclass(frozen=True)
class RegisterEntry:
    """One line of the register, ready for JSON, CSV and HTML."""

    id: int
    kind: str
    sent_at: datetime
    item_type: str
    item_id: int
    title_fr: str
    title_en: str
    publisher: str | None
    category_fr: str | None
    category_en: str | None
    areas: tuple[str, ...]
    city_wide: bool
    urgency: str
    #: Rounded; None when masked (fewer than 5, or a count that would reveal one).
    reached: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "sent_at": self.sent_at,
            "item": {"type": self.item_type, "id": self.item_id},
            "title": {"fr": self.title_fr, "en": self.title_en},
            "publisher": self.publisher,
            "targeting": {
                "areas": list(self.areas),
                "city_wide": self.city_wide,
                "category": (
                    None
                    if self.category_fr is None
                    else {"fr": self.category_fr, "en": self.category_en}
                ),
                "urgency": self.urgency,
            },
            "reached": self.reached,
        }


def _items(notifications: Sequence[Notification]) -> dict[tuple[str, int], Any]:
    """The items of ``notifications`` by ``(type, id)``: per type present, one query for the
    items with their organization and category, one for their areas."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for n in notifications:
        if n.item_id is not None:
            wanted[n.item_type].add(n.item_id)
    models = content_models()
    found: dict[tuple[str, int], Any] = {}
    for code, ids in wanted.items():
        model = models.get(code)
        if model is None:
            continue
        rows = (
            model.objects.filter(pk__in=ids)
            .select_related("organization", "category")
            .prefetch_related("areas")
        )
        for item in rows:
            found[(code, item.pk)] = item
    return found


def register_entries(notifications: Sequence[Notification]) -> list[RegisterEntry]:
    """The register's lines for a page of ``register_notifications``."""
    items = _items(notifications)
    entries = []
    for n in notifications:
        item = items.get((n.item_type, n.item_id or 0))
        fr = (n.texts or {}).get("fr") or {}
        en = (n.texts or {}).get("en") or fr
        shown = count_show(Cell(n.reached, counter_key(f"reached:{n.pk}", n.reached)))
        areas = tuple(sorted(a.name for a in item.areas.all())) if item is not None else ()
        entries.append(
            RegisterEntry(
                id=n.pk,
                kind=n.kind,
                sent_at=n.first_sent_at or n.created_at,
                item_type=n.item_type,
                item_id=n.item_id or 0,
                title_fr=fr.get("title", ""),
                title_en=en.get("title", ""),
                publisher=item.organization.name if item is not None else None,
                category_fr=item.category.name_fr if item is not None else None,
                category_en=(item.category.name_en or item.category.name_fr)
                if item is not None
                else None,
                areas=areas,
                city_wide=item is not None and item.geometry is None,
                urgency=Urgency(n.urgency).code,
                reached=shown.value,
            )
        )
    return entries
