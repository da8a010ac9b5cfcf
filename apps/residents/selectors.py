"""Reads on residents' data; other apps (notifications, recommend) use these, not the models."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import CharField, QuerySet, Value

from apps.core.models import Area, Category, Organization, PublishableContent
from apps.core.registry import content_models
from apps.residents.models import (
    AreaFollow,
    CategoryFollow,
    Device,
    OrganizationFollow,
    Place,
    SavedItem,
)


def device_places(*, device: Device) -> QuerySet[Place]:
    """The device's places, oldest first."""
    return Place.objects.filter(device=device).order_by("id")


@dataclass(frozen=True)
class Interests:
    """Slugs a device follows, sorted."""

    categories: list[str]
    areas: list[str]
    organizations: list[str]


def device_interests(*, device: Device) -> Interests:
    """What the device follows, as slugs (three queries)."""
    return Interests(
        categories=sorted(
            CategoryFollow.objects.filter(device=device).values_list("category__slug", flat=True)
        ),
        areas=sorted(AreaFollow.objects.filter(device=device).values_list("area__slug", flat=True)),
        organizations=sorted(
            OrganizationFollow.objects.filter(device=device).values_list(
                "organization__slug", flat=True
            )
        ),
    )


def followed_category_ids(*, device: Device) -> set[int]:
    return set(CategoryFollow.objects.filter(device=device).values_list("category_id", flat=True))


def followed_area_ids(*, device: Device) -> set[int]:
    return set(AreaFollow.objects.filter(device=device).values_list("area_id", flat=True))


def followed_organization_ids(*, device: Device) -> set[int]:
    return set(
        OrganizationFollow.objects.filter(device=device).values_list("organization_id", flat=True)
    )


@dataclass(frozen=True)
class FollowedIds:
    """Ids a device follows; ``areas`` maps each followed area's id to its name."""

    categories: frozenset[int]
    areas: dict[int, str]
    organizations: frozenset[int]


def device_followed_ids(*, device: Device) -> FollowedIds:
    """Everything the device follows, as ids (one query: a union of the three follow tables)."""
    text = CharField()
    rows = (
        CategoryFollow.objects.filter(device=device)
        .values_list(Value("category", output_field=text), "category_id", Value("", text))
        .union(
            AreaFollow.objects.filter(device=device).values_list(
                Value("area", output_field=text), "area_id", "area__name"
            ),
            OrganizationFollow.objects.filter(device=device).values_list(
                Value("organization", output_field=text), "organization_id", Value("", text)
            ),
            all=True,
        )
    )
    found: dict[str, dict[int, str]] = defaultdict(dict)
    for kind, ident, name in rows:
        found[kind][ident] = name
    return FollowedIds(
        categories=frozenset(found["category"]),
        areas=dict(found["area"]),
        organizations=frozenset(found["organization"]),
    )


def places_by_device(*, device_ids: Iterable[int]) -> dict[int, list[Place]]:
    """The places of many devices, oldest first (one query; the recommender's trainer)."""
    found: dict[int, list[Place]] = defaultdict(list)
    for place in Place.objects.filter(device_id__in=list(device_ids)).order_by("device_id", "id"):
        found[place.device_id].append(place)
    return dict(found)


def followed_ids_by_device(*, device_ids: Iterable[int]) -> dict[int, FollowedIds]:
    """What many devices follow, as ids (one query; the recommender's trainer)."""
    ids = list(device_ids)
    text = CharField()
    rows = (
        CategoryFollow.objects.filter(device_id__in=ids)
        .values_list("device_id", Value("category", output_field=text), "category_id")
        .union(
            AreaFollow.objects.filter(device_id__in=ids).values_list(
                "device_id", Value("area", output_field=text), "area_id"
            ),
            OrganizationFollow.objects.filter(device_id__in=ids).values_list(
                "device_id", Value("organization", output_field=text), "organization_id"
            ),
            all=True,
        )
    )
    found: dict[int, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for device_id, kind, ident in rows:
        found[device_id][kind].add(ident)
    return {
        device_id: FollowedIds(
            categories=frozenset(kinds["category"]),
            areas=dict.fromkeys(kinds["area"], ""),
            organizations=frozenset(kinds["organization"]),
        )
        for device_id, kinds in found.items()
    }


def slugs_resolve(
    model: type[Category] | type[Area] | type[Organization], slugs: Iterable[str]
) -> tuple[list, list[str]]:
    """Objects for ``slugs`` and the slugs that match nothing (one query)."""
    wanted = list(dict.fromkeys(slugs))
    found = {obj.slug: obj for obj in model.objects.filter(slug__in=wanted)}
    return [found[s] for s in wanted if s in found], [s for s in wanted if s not in found]


def device_saved_items(*, device: Device) -> QuerySet[SavedItem]:
    """The device's saved items, newest first."""
    return SavedItem.objects.filter(device=device).order_by("-created_at", "-id")


def saved_items_public_content(
    saved: Iterable[SavedItem],
) -> dict[tuple[str, int], PublishableContent]:
    """The public items behind ``saved`` by ``(type, id)``: one query per type present."""
    ids_by_type: dict[str, set[int]] = defaultdict(set)
    for row in saved:
        ids_by_type[row.item_type].add(row.item_id)
    found: dict[tuple[str, int], PublishableContent] = {}
    models = content_models()
    for type_code, ids in ids_by_type.items():
        for item in models[type_code].objects.public().filter(pk__in=ids):
            found[(type_code, item.pk)] = item
    return found


def devices_saving(*, item_type: str, item_id: int) -> QuerySet[Device]:
    """Devices that saved an item (saved-event reminders)."""
    return Device.objects.filter(saved_items__item_type=item_type, saved_items__item_id=item_id)
