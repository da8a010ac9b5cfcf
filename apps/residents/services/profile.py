"""What a resident chooses: places, followed categories/areas/organizations, saved items."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from apps.core.models import Area, Category, Organization
from apps.core.registry import model_for
from apps.residents.models import (
    PLACES_MAX,
    AreaFollow,
    CategoryFollow,
    Device,
    OrganizationFollow,
    Place,
    SavedItem,
)
from apps.residents.signals import profile_changed


def _lock_device(device: Device) -> None:
    """Serialise a device's profile writes (limits are checked then written)."""
    list(Device.objects.select_for_update().filter(pk=device.pk).values_list("pk", flat=True))


@transaction.atomic
def place_create(
    *, device: Device, label: str, location: Point, radius_m: int, name: str = ""
) -> Place:
    """Add a place (at most ``PLACES_MAX`` per device); its location is stored snapped."""
    _lock_device(device)
    if Place.objects.filter(device=device).count() >= PLACES_MAX:
        raise ValidationError(
            _("Un appareil garde %(n)d lieux au plus : supprimez-en un d'abord.")
            % {"n": PLACES_MAX}
        )
    place = Place.objects.create(
        device=device, label=label, name=name, location=location, radius_m=radius_m
    )
    profile_changed.send(sender=Place, device_id=device.pk)
    return place


@transaction.atomic
def place_update(*, place: Place, changes: dict[str, Any]) -> Place:
    """Change ``label``, ``name``, ``location`` or ``radius_m`` of a place."""
    allowed = {"label", "name", "location", "radius_m"}
    if set(changes) - allowed:
        raise ValueError(f"not place fields: {sorted(set(changes) - allowed)}")
    for name, value in changes.items():
        setattr(place, name, value)
    place.save()
    profile_changed.send(sender=Place, device_id=place.device_id)
    return place


@transaction.atomic
def place_delete(*, place: Place) -> None:
    device_id = place.device_id
    place.delete()
    profile_changed.send(sender=Place, device_id=device_id)


def _follows_replace(
    model: type[models.Model], device: Device, field: str, targets: Iterable[models.Model]
) -> None:
    wanted = {target.pk for target in targets}
    current = model.objects.filter(device=device)  # type: ignore[attr-defined]
    current.exclude(**{f"{field}__in": wanted}).delete()
    have = set(current.values_list(f"{field}_id", flat=True))
    model.objects.bulk_create(  # type: ignore[attr-defined]
        [model(device=device, **{f"{field}_id": pk}) for pk in sorted(wanted - have)],
        ignore_conflicts=True,
    )


@transaction.atomic
def interests_set(
    *,
    device: Device,
    categories: Iterable[Category],
    areas: Iterable[Area],
    organizations: Iterable[Organization],
) -> None:
    """Replace everything the device follows with the given categories, areas, organizations."""
    _lock_device(device)
    _follows_replace(CategoryFollow, device, "category", categories)
    _follows_replace(AreaFollow, device, "area", areas)
    _follows_replace(OrganizationFollow, device, "organization", organizations)
    profile_changed.send(sender=Device, device_id=device.pk)


@transaction.atomic
def saved_item_add(*, device: Device, item_type: str, item_id: int) -> tuple[SavedItem, bool]:
    """Save a public item (idempotent); return the row and whether it is new.

    Raises ``ValidationError`` on ``id`` when no public item of that type has this id.
    """
    if not model_for(item_type).objects.public().filter(pk=item_id).exists():
        raise ValidationError({"id": [_("Aucun contenu public de ce type n'a cet identifiant.")]})
    return SavedItem.objects.get_or_create(device=device, item_type=item_type, item_id=item_id)


@transaction.atomic
def saved_item_remove(*, saved: SavedItem) -> None:
    saved.delete()


def saved_items_forget_item(*, item_type: str, item_id: int) -> int:
    """Drop every saved reference to a deleted item; return how many."""
    deleted, _counts = SavedItem.objects.filter(item_type=item_type, item_id=item_id).delete()
    return deleted
