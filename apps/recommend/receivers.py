"""Keep the interaction log and feed snapshots in step with residents' transfers and erasure,
and the feed's item index with content changes (``item_index.generation_bump``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from apps.core.signals import content_removed, content_saved, contents_saved
from apps.recommend.online.item_index import generation_bump, refresh_slack_s
from apps.recommend.online.resident_cache import resident_inputs_forget
from apps.recommend.online.snapshot import snapshots_forget
from apps.recommend.services import interactions_erase, interactions_move
from apps.residents.models import Device
from apps.residents.signals import (
    device_transferred,
    devices_erased,
    personalization_withdrawn,
    profile_changed,
)


@receiver(device_transferred, dispatch_uid="recommend.interactions_follow_transfer")
def interactions_follow_transfer(
    sender: Any, old_device: Device, new_device: Device, **kwargs: Any
) -> None:
    """The log moves to the new phone only if the resident had accepted personalization."""
    if old_device.personalization_consent:
        interactions_move(old_device=old_device, new_device=new_device)


@receiver(personalization_withdrawn, dispatch_uid="recommend.interactions_erase_on_withdrawal")
def interactions_erase_on_withdrawal(sender: Any, device: Device, **kwargs: Any) -> None:
    interactions_erase(device=device)


@receiver(personalization_withdrawn, dispatch_uid="recommend.snapshots_forget_on_withdrawal")
def snapshots_forget_on_withdrawal(sender: Any, device: Device, **kwargs: Any) -> None:
    """The personal feed (places' names, follows) was built under the consent withdrawn."""
    snapshots_forget(device_id=device.pk, erased=False)
    resident_inputs_forget(device.pk)


@receiver(devices_erased, dispatch_uid="recommend.snapshots_forget_on_erasure")
def snapshots_forget_on_erasure(sender: Any, device_ids: list[int], **kwargs: Any) -> None:
    for device_id in device_ids:
        snapshots_forget(device_id=device_id, erased=True)
    resident_inputs_forget(*device_ids)


@receiver(profile_changed, dispatch_uid="recommend.inputs_follow_profile")
def inputs_follow_profile(sender: Any, device_id: int, **kwargs: Any) -> None:
    """Places, follows or preferences changed: the feed reads them again."""
    resident_inputs_forget(device_id)


def inputs_follow_model_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A place, follow, device or interaction row written directly (outside the services)."""
    device_id = instance.pk if isinstance(instance, Device) else instance.device_id
    if device_id is not None:
        resident_inputs_forget(device_id)


@receiver(content_saved, dispatch_uid="recommend.index_follow_content_saved")
@receiver(content_removed, dispatch_uid="recommend.index_follow_content_removed")
@receiver(contents_saved, dispatch_uid="recommend.index_follow_contents_saved")
def index_follow_content(sender: Any, **kwargs: Any) -> None:
    """Publish, edit, archive, areas re-tagged: the feed's item index is stale."""
    generation_bump()


def index_follow_model_write(sender: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A content row, a date of an event or a popularity row written directly (``save()``,
    ``delete()`` outside the services: fixtures, the shell, migrations of data).

    A content save of chosen fields without ``updated_at`` leaves the row's ``updated_at``
    where it was: only a full read of the index sees it (``index_refresh``). Event dates and
    popularity are read whole at every refresh.
    """
    chosen = update_fields is not None and "updated_at" not in update_fields
    generation_bump(full=chosen and hasattr(sender, "type_code"))


def index_follow_area_write(sender: Any, **kwargs: Any) -> None:
    """An area saved or deleted: items were re-tagged (``area_save``) or lost it (cascade)
    without their ``updated_at`` moving, so every process reads its index whole again."""
    generation_bump(full=True)


def index_follow_areas_changed(
    sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any
) -> None:
    """An item's areas set: by ``content_save`` right after the item's save (its
    ``updated_at`` is fresh, the incremental refresh sees it), else (the shell, an area's side
    of the relation) only a full read does."""
    if not action.startswith("post_"):
        return
    updated = None if reverse else getattr(instance, "updated_at", None)
    age_s = (timezone.now() - updated).total_seconds() if updated is not None else None
    fresh = age_s is not None and age_s < refresh_slack_s() / 2
    generation_bump(full=not fresh)


def index_follow_migrations(sender: Any, **kwargs: Any) -> None:
    """Migrations of data write rows without ``updated_at``: read the index whole again."""
    generation_bump(full=True)


def connect_model_writes() -> None:
    """Connect ``index_follow_model_write`` to the models the item index reads, and
    ``inputs_follow_model_write`` to those of the resident's feed inputs."""
    from django.apps import apps as django_apps
    from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

    from apps.core.models import Area
    from apps.core.registry import content_models
    from apps.recommend.models import ItemPopularity

    models: list[Any] = [*content_models().values(), ItemPopularity]
    events = content_models().get("events")
    if events is not None:
        models.append(events.occurrences.rel.related_model)  # type: ignore[attr-defined]
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(
                index_follow_model_write,
                sender=model,
                dispatch_uid=f"recommend.index_follow_{signal is post_save}_{model._meta.label}",
            )
    for signal in (post_save, post_delete):
        signal.connect(
            index_follow_area_write,
            sender=Area,
            dispatch_uid=f"recommend.index_follow_area_{signal is post_save}",
        )
    for model in content_models().values():
        m2m_changed.connect(
            index_follow_areas_changed,
            sender=model.areas.through,
            dispatch_uid=f"recommend.index_follow_areas_{model._meta.label}",
        )
    post_migrate.connect(  # sent per app: once per run is enough
        index_follow_migrations,
        sender=django_apps.get_app_config("recommend"),
        dispatch_uid="recommend.index_follow_migrate",
    )
    from apps.recommend.models import Interaction
    from apps.residents.models import AreaFollow, CategoryFollow, OrganizationFollow, Place

    for model in (Place, CategoryFollow, AreaFollow, OrganizationFollow, Device, Interaction):
        for signal in (post_save, post_delete):
            signal.connect(
                inputs_follow_model_write,
                sender=model,
                dispatch_uid=f"recommend.inputs_follow_{signal is post_save}_{model._meta.label}",
            )
