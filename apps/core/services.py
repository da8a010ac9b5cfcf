"""Writes on content shared by every type: apply, save, areas, and the publication lifecycle.

``content_apply`` is the one write path of a content item: the API, the admin and the importers
hand it (through ``news_apply``, ``works_apply``, ``event_apply``) the validated data and the
organization and user acting; it checks the organization, sets the fields, saves through the
type's service and takes the lifecycle step asked for.

Lifecycle (architecture.md §3)::

    draft ──schedule──▶ scheduled ──(beat, publish_at reached)──▶ published ──archive──▶ archived
      ▲  └──────────────publish───────────────────────────────────▲   │                    │
      └──────────────────────────── unpublish ─────────────────────┴───┘◀──── publish ─────┘

Every function here runs in one transaction, locks the row it changes, and sends the
``apps.core.signals`` inside that transaction. Transitions that make no sense raise
``ValidationError`` with a message an editor can read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import signals
from apps.core.approval_rule import (
    approval_reasons,
    approval_submit,
    approval_withdraw_pending,
    sensitive_reasons,
)
from apps.core.models import (
    ApprovalAction,
    Area,
    Organization,
    OrganizationApiKey,
    PublishableContent,
    Status,
    Tombstone,
)
from apps.core.models.api_keys import generate_api_key, hash_api_key
from apps.core.registry import content_models
from apps.core.selectors import area_list_touching

logger = logging.getLogger(__name__)


def content_areas_refresh(*, item: PublishableContent) -> list[Area]:
    """Set ``item.areas`` to the areas its geometry intersects (none for city-wide items)."""
    areas: list[Area] = []
    if item.geometry is not None:
        areas = list(area_list_touching(geometry=item.geometry))
    item.areas.set(areas)
    return areas


@transaction.atomic
def area_save(*, area: Area) -> int:
    """Validate and save an area, then re-tag the content its (new) outline touches.

    Items that entered or left the area get ``content_saved`` (their ``areas`` changed);
    return how many items changed.
    """
    area.full_clean()
    area.save()
    changed = 0
    for model in content_models().values():
        relation: Any = model._meta.get_field("areas")
        through: Any = relation.remote_field.through
        item_column = f"{relation.m2m_field_name()}_id"
        links = through.objects.filter(area_id=area.pk)
        before = set(links.values_list(item_column, flat=True))
        after = set(
            model.objects.filter(geometry__intersects=area.geometry).values_list("pk", flat=True)
        )
        links.filter(**{f"{item_column}__in": before - after}).delete()
        through.objects.bulk_create(
            [through(**{item_column: pk, "area_id": area.pk}) for pk in after - before]
        )
        for pk in before ^ after:
            signals.content_saved.send(sender=model, item_type=model.type_code, item_id=pk)
        changed += len(before ^ after)
    return changed


def _material_snapshot(item: PublishableContent) -> dict[str, Any]:
    return {name: getattr(item, name) for name in type(item).material_fields}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [name for name, value in after.items() if before.get(name) != value]


def _saved(item: PublishableContent) -> None:
    signals.content_saved.send(sender=type(item), item_type=item.type_code, item_id=item.pk)


#: The mark of a drill (``exercise``), before its title and summary in every language, as in
#: its pushes and CAP messages (docs/alerts.md): nobody may take a drill for the real thing.
DRILL_PREFIX = "EXERCICE — "


def _drill_marked(item: PublishableContent) -> None:
    """Prefix the drill's titles and summaries with ``DRILL_PREFIX`` (once, within length)."""
    for field in ("title", "summary"):
        limit = getattr(type(item)._meta.get_field(field), "max_length", None) or 200
        for code, _name in settings.LANGUAGES:
            name = f"{field}_{code}"
            value = getattr(item, name, None)
            if value and not value.startswith("EXERCICE"):
                setattr(item, name, (DRILL_PREFIX + value)[:limit])


def _escalation_check(previous: PublishableContent, item: PublishableContent, user: Any) -> None:
    """Refuse a person's edit that makes a scheduled or public item an alert or city-wide push.

    Such a push needs a validator's approval (``apps.core.approval_rule``); the beat (or the
    update push of a public item) would otherwise send it without one.
    """
    if previous.status not in (Status.SCHEDULED, Status.PUBLISHED):
        return
    added = set(sensitive_reasons(item)) - set(sensitive_reasons(previous))
    if added and approval_reasons(item=item, user=user):
        raise ValidationError(
            _(
                "Une notification d'alerte ou à toute la ville doit être validée par une "
                "seconde personne : repassez ce contenu en brouillon, puis demandez sa "
                "publication."
            )
        )


@transaction.atomic
def content_save(*, item: PublishableContent, user: Any = None) -> list[str]:
    """Validate and save ``item``, recompute its areas; return the material fields changed.

    A material change of a public item sends ``content_changed`` (an update push). Status
    changes do not go through here: use the lifecycle functions below.
    """
    model = type(item)
    before: dict[str, Any] | None = None
    if item.pk is not None:
        previous = model.objects.select_for_update().filter(pk=item.pk).first()
        if previous is not None:
            before = _material_snapshot(previous)
            if previous.status != item.status:
                raise ValidationError(
                    _("Le statut change par les actions publier, programmer ou archiver.")
                )
            _escalation_check(previous, item, user)
    elif item.status not in (Status.DRAFT,):
        raise ValidationError(_("Un nouveau contenu est créé en brouillon."))
    if item.exercise:
        _drill_marked(item)
    item.full_clean()
    if item.pk is None and user is not None and user.is_authenticated:
        item.created_by = user
    item.save()
    content_areas_refresh(item=item)
    changes = _changed(before, _material_snapshot(item)) if before is not None else []
    if changes and item.is_public:
        signals.content_changed.send(sender=model, item=item, changes=changes)
    _saved(item)
    return changes


def _locked(item: PublishableContent) -> PublishableContent:
    return type(item).objects.select_for_update().get(pk=item.pk)


def _sync_instance(item: PublishableContent, fresh: PublishableContent, fields: list[str]) -> None:
    for name in fields:
        setattr(item, name, getattr(fresh, name))


@transaction.atomic
def content_publish(
    *,
    item: PublishableContent,
    user: Any = None,
    at: datetime | None = None,
    approved: bool = False,
) -> PublishableContent:
    """Make ``item`` public now (idempotent); sends ``content_published``.

    When ``user`` needs a validator's approval (the two-person rule,
    ``apps.core.approval_rule``), nothing is published: a request is opened and the item,
    still a draft, is returned. ``approved`` is for ``apps.core.approvals`` only, once a
    validator approved.
    """
    fresh = _locked(item)
    now = at or timezone.now()
    if fresh.status == Status.PUBLISHED:
        return fresh
    if fresh.expires_at is not None and fresh.expires_at <= now:
        raise ValidationError(_("Ce contenu a déjà expiré : modifiez sa date d'expiration."))
    if fresh.is_over(now):
        raise ValidationError(_("Ce contenu est déjà terminé : modifiez ses dates."))
    reasons = [] if approved else approval_reasons(item=fresh, user=user)
    if reasons:
        approval_submit(item=fresh, user=user, action=ApprovalAction.PUBLISH, reasons=reasons)
        return fresh
    fresh.status = Status.PUBLISHED
    fresh.published_at = now
    if fresh.publish_at is None or fresh.publish_at > now:
        fresh.publish_at = now
    fresh.save(update_fields=["status", "published_at", "publish_at", "updated_at"])
    Tombstone.objects.filter(item_type=fresh.type_code, item_id=fresh.pk).delete()
    _sync_instance(item, fresh, ["status", "published_at", "publish_at", "updated_at"])
    signals.content_published.send(sender=type(fresh), item=fresh)
    _saved(fresh)
    logger.info("published %s/%s", fresh.type_code, fresh.pk)
    return fresh


@transaction.atomic
def content_schedule(
    *,
    item: PublishableContent,
    publish_at: datetime,
    user: Any = None,
    approved: bool = False,
) -> PublishableContent:
    """Plan the publication of a draft (or archived) item at ``publish_at``, in the future.

    Like ``content_publish``, opens an approval request instead when ``user`` needs one.
    """
    fresh = _locked(item)
    if fresh.status == Status.PUBLISHED:
        raise ValidationError(_("Ce contenu est déjà publié."))
    if publish_at <= timezone.now():
        raise ValidationError(_("La date de publication doit être dans le futur."))
    if fresh.expires_at is not None and fresh.expires_at <= publish_at:
        raise ValidationError(_("La date d'expiration doit suivre la publication."))
    reasons = [] if approved else approval_reasons(item=fresh, user=user)
    if reasons:
        approval_submit(
            item=fresh,
            user=user,
            action=ApprovalAction.SCHEDULE,
            reasons=reasons,
            publish_at=publish_at,
        )
        return fresh
    fresh.status = Status.SCHEDULED
    fresh.publish_at = publish_at
    fresh.save(update_fields=["status", "publish_at", "updated_at"])
    _sync_instance(item, fresh, ["status", "publish_at", "updated_at"])
    _saved(fresh)
    return fresh


def _leave_public(
    item: PublishableContent, fresh: PublishableContent, status: str, reason: str
) -> PublishableContent:
    fresh.status = status
    fields = ["status", "updated_at"]
    if status == Status.DRAFT:
        fresh.publish_at = None
        fields.append("publish_at")
    fresh.save(update_fields=fields)
    Tombstone.objects.update_or_create(
        item_type=fresh.type_code,
        item_id=fresh.pk,
        defaults={"reason": reason, "removed_at": timezone.now()},
    )
    _sync_instance(item, fresh, fields)
    signals.content_removed.send(
        sender=type(fresh), item_type=fresh.type_code, item_id=fresh.pk, reason=reason
    )
    _saved(fresh)
    return fresh


@transaction.atomic
def content_archive(*, item: PublishableContent, user: Any = None) -> PublishableContent:
    """Take a published item out of the public set, keeping it for the record (idempotent)."""
    fresh = _locked(item)
    if fresh.status == Status.ARCHIVED:
        return fresh
    if fresh.status != Status.PUBLISHED:
        raise ValidationError(_("Seul un contenu publié peut être archivé."))
    return _leave_public(item, fresh, Status.ARCHIVED, Tombstone.Reason.ARCHIVED)


@transaction.atomic
def content_unpublish(*, item: PublishableContent, user: Any = None) -> PublishableContent:
    """Send an item back to draft: cancels a schedule, or withdraws a published item.

    A draft waiting for approval has its request withdrawn.
    """
    fresh = _locked(item)
    if fresh.status == Status.DRAFT:
        approval_withdraw_pending(item=fresh)
        return fresh
    return _leave_public(item, fresh, Status.DRAFT, Tombstone.Reason.UNPUBLISHED)


@transaction.atomic
def content_delete(*, item: PublishableContent, user: Any = None) -> None:
    """Delete an item and leave a tombstone so syncing clients drop it too."""
    fresh = _locked(item)
    type_code, pk = fresh.type_code, fresh.pk
    approval_withdraw_pending(item=fresh)
    Tombstone.objects.update_or_create(
        item_type=type_code,
        item_id=pk,
        defaults={"reason": Tombstone.Reason.DELETED, "removed_at": timezone.now()},
    )
    signals.content_removed.send(
        sender=type(fresh), item_type=type_code, item_id=pk, reason=Tombstone.Reason.DELETED
    )
    fresh.delete()
    signals.content_saved.send(sender=type(fresh), item_type=type_code, item_id=pk)


def content_lifecycle_run(*, at: datetime | None = None) -> dict[str, int]:
    """Publish scheduled items that are due and archive expired ones; return the counts.

    Each item changes in its own transaction, claimed with ``SKIP LOCKED`` so that two runs
    never act on the same row; one failing item is logged and does not stop the others.
    """
    now = at or timezone.now()
    counts = {"published": 0, "archived": 0, "failed": 0}
    for model in content_models().values():
        jobs = (
            ("published", model.objects.due_for_publication(now), partial(content_publish, at=now)),
            ("archived", model.objects.due_for_archiving(now), content_archive),
        )
        for action, queryset, service in jobs:
            for pk in queryset.values_list("pk", flat=True)[:1000]:
                try:
                    with transaction.atomic():
                        claimed = (
                            model.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
                        )
                        if claimed is None:
                            continue
                        service(item=claimed)
                    counts[action] += 1
                except ValidationError as exc:
                    counts["failed"] += 1
                    logger.error("lifecycle %s %s/%s failed: %s", action, model.type_code, pk, exc)
    return counts


@transaction.atomic
def content_set_status(
    *,
    item: PublishableContent,
    status: str,
    publish_at: datetime | None = None,
    user: Any = None,
) -> PublishableContent:
    """Move ``item`` to ``status`` through the matching lifecycle function (API writes).

    ``scheduled`` needs ``publish_at`` (or the item's own); the other statuses ignore it.
    """
    if status == Status.PUBLISHED:
        return content_publish(item=item, user=user)
    if status == Status.SCHEDULED:
        when = publish_at or item.publish_at
        if when is None:
            raise ValidationError({"publish_at": _("Indiquez la date de publication.")})
        return content_schedule(item=item, publish_at=when, user=user)
    if status == Status.ARCHIVED:
        return content_archive(item=item, user=user)
    if status == Status.DRAFT:
        return content_unpublish(item=item, user=user)
    raise ValidationError({"status": _("Statut inconnu : %(s)s") % {"s": status}})


#: Columns of the content base a write copies as given; the status, the organization and the
#: computed columns (areas, ``published_at``) have their own rules.
CONTENT_FIELDS: tuple[str, ...] = (
    "title_fr",
    "title_en",
    "summary_fr",
    "summary_en",
    "body_fr",
    "body_en",
    "category",
    "geometry",
    "publish_at",
    "expires_at",
    "urgency",
    "notify",
    "exercise",
    "image_alt_fr",
    "image_alt_en",
    "image_credit",
)


def content_organization_check(
    *, item: PublishableContent, organization: Organization, user: Any
) -> None:
    """Refuse (``PermissionDenied``) a person who does not publish for ``organization``.

    Superusers publish for every organization; ``user=None`` (an API key resolved to its
    organization, an import, a beat task) is the system acting and is not checked. An existing
    item must also belong to one of the person's organizations: nobody takes over another
    organization's item by naming their own.
    """
    if user is None or not user.is_authenticated or user.is_superuser:
        return
    allowed = Organization.objects.editable_by(user)
    if not allowed.filter(pk=organization.pk).exists():
        raise PermissionDenied(_("Vous ne publiez pas pour cette organisation."))
    stored = type(item).objects.filter(pk=item.pk) if item.pk is not None else None
    if stored is not None and not stored.filter(organization__in=allowed).exists():
        raise PermissionDenied(_("Ce contenu appartient à une autre organisation."))


@transaction.atomic
def content_apply(
    *,
    item: PublishableContent,
    data: Mapping[str, Any],
    organization: Organization | None = None,
    user: Any = None,
    fields: Iterable[str] = CONTENT_FIELDS,
    save: Callable[[PublishableContent], Any] | None = None,
) -> PublishableContent:
    """Create (``item.pk`` is ``None``) or update ``item`` from validated ``data``.

    In order: the organization (``organization``, else the item's own) is checked against
    ``user``; the ``fields`` named in ``data`` are set; ``save`` (the type's save service,
    ``content_save`` by default) writes the item and its parts; then ``data["status"]``, when
    it differs, takes the lifecycle step (``content_set_status``). A key of ``data`` outside
    ``fields`` and ``status`` is a programming error (``TypeError``), never silently dropped.
    Returns the item as stored.
    """
    values = dict(data)
    wanted_status = values.pop("status", None)
    allowed = tuple(fields)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise TypeError(f"{type(item).__name__} has no writable field {', '.join(unknown)}")
    if organization is not None:
        content_organization_check(item=item, organization=organization, user=user)
        item.organization = organization
    elif item.organization_id is not None:
        content_organization_check(item=item, organization=item.organization, user=user)
    for name in allowed:
        if name in values:
            setattr(item, name, values[name])
    if save is None:
        content_save(item=item, user=user)
    else:
        save(item)
    if wanted_status and wanted_status != item.status:
        content_set_status(
            item=item, status=wanted_status, publish_at=values.get("publish_at"), user=user
        )
    item.refresh_from_db()
    return item


@transaction.atomic
def api_key_create(
    *, organization: Organization, name: str, user: Any = None
) -> tuple[OrganizationApiKey, str]:
    """Create an API key for ``organization``; return it with the clear key, shown only once."""
    raw, prefix = generate_api_key()
    key = OrganizationApiKey(
        organization=organization,
        name=name,
        prefix=prefix,
        hashed_key=hash_api_key(raw),
        created_by=user if user is not None and user.is_authenticated else None,
    )
    key.full_clean()
    key.save()
    logger.info("api key %s created for %s", prefix, organization.slug)
    return key, raw


@transaction.atomic
def api_key_revoke(*, key: OrganizationApiKey, user: Any = None) -> OrganizationApiKey:
    """Revoke a key for good (idempotent); requests using it get 401 from then on."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        logger.info("api key %s revoked", key.prefix)
    return key


#: ``last_used_at`` is written at most this often per key (one UPDATE, not one per request).
API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


def api_key_touch(*, key: OrganizationApiKey) -> None:
    """Record that ``key`` was used just now."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= API_KEY_TOUCH_INTERVAL:
        OrganizationApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
