"""Who acted, on each history row: the staff user's name and role, or a named automaton.

A staff change made in the admin is recorded with the signed-in user
(``HistoryRequestMiddleware``); a service called with ``user=`` records that user. Without a
user the row names what acted: the API key of a request authenticated by a key, the
``acting_as`` label an import or a command sets, the Celery task that runs, else « système ».

Bulk writes (``bulk_create``/``bulk_update``) send no signals and leave no history: code that
writes audited rows in bulk calls ``bulk_create_with_audit`` / ``bulk_update_with_audit``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from celery import signals as celery_signals
from django.db.models import Model
from django.dispatch import receiver
from django.utils import translation
from django.utils.translation import gettext
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from apps.core.models import Membership, OrganizationApiKey

LABEL_LENGTH = 200
_actor: ContextVar[str | None] = ContextVar("audit_actor", default=None)
_task_tokens: dict[str, Any] = {}


@contextmanager
def acting_as(label: str) -> Iterator[None]:
    """Record changes made inside the block without a user as made by ``label``."""
    token = _actor.set(label[:LABEL_LENGTH])
    try:
        yield
    finally:
        _actor.reset(token)


def import_label(name: str) -> str:
    """The actor of the changes an import of the source ``name`` makes."""
    with translation.override("fr"):
        return gettext("import « %(name)s »") % {"name": name}


def _request() -> Any:
    return getattr(HistoricalRecords.context, "request", None)


def automaton_label() -> str:
    """What acted when no user did (in French, the staff's language, whoever made the call)."""
    label = _actor.get()
    if label:
        return label
    with translation.override("fr"):
        key = getattr(_request(), "auth", None)
        if isinstance(key, OrganizationApiKey):
            return gettext("clé d'API « %(name)s » (%(prefix)s…)") % {
                "name": key.name,
                "prefix": key.prefix,
            }
        return gettext("système")


def staff_role(user: Any, organization_id: int | None) -> str:
    """The agent's role (communicable under the CADA rules): administrator, or their
    membership role in the organization the row belongs to."""
    cache: dict[int | None, str] | None = getattr(user, "_audit_roles", None)
    if cache is None:  # on the user object, so for one request or one task
        cache = {}
        user._audit_roles = cache
    if organization_id in cache:  # one query per user and organization, not per row
        return cache[organization_id]
    with translation.override("fr"):
        if user.is_superuser:
            role = gettext("administrateur")
        else:
            memberships = Membership.objects.filter(user=user)
            if organization_id is not None:
                memberships = memberships.filter(organization_id=organization_id)
            labels = {
                str(Membership.Role(r).label) for r in memberships.values_list("role", flat=True)
            }
            role = ", ".join(sorted(labels)) or gettext("agent")
    cache[organization_id] = role
    return role


def actor_fields(user: Any, organization_id: int | None) -> dict[str, str]:
    """``history_actor`` and ``history_role`` of a row made by ``user`` (or by no one)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {"history_actor": automaton_label(), "history_role": ""}
    # The agent's name is communicable (CADA); a login that is an e-mail address is not.
    username = user.get_username()
    with translation.override("fr"):
        fallback = username if "@" not in username else gettext("agent n° %(id)d") % {"id": user.pk}
    name = (user.get_full_name() or fallback)[:LABEL_LENGTH]
    return {"history_actor": name, "history_role": staff_role(user, organization_id)[:60]}


@receiver(pre_create_historical_record, dispatch_uid="core.audit_actor")
def history_actor_fill(
    sender: Any, instance: Model, history_instance: Any, history_user: Any, **kwargs: Any
) -> None:
    fields = actor_fields(history_user, getattr(instance, "organization_id", None))
    for name, value in fields.items():
        setattr(history_instance, name, value)


def with_user(instance: Model, user: Any) -> Model:
    """Record ``user`` on the next history row of ``instance`` (services given ``user=``)."""
    if user is not None and getattr(user, "is_authenticated", False):
        instance._history_user = user  # type: ignore[attr-defined]
    return instance


def _acting_user(user: Any) -> Any:
    """``user`` when signed in, else the request's signed-in user, else ``None``."""
    if user is not None and getattr(user, "is_authenticated", False):
        return user
    request_user = getattr(_request(), "user", None)
    return request_user if getattr(request_user, "is_authenticated", False) else None


def bulk_create_with_audit(
    model: type[Model], objs: Sequence[Model], *, user: Any = None, batch_size: int = 1000
) -> list[Model]:
    """``bulk_create`` that also writes one "created" history row per object."""
    user = _acting_user(user)
    return bulk_create_with_history(
        objs,
        model,
        batch_size=batch_size,
        default_user=user,
        custom_historical_attrs=actor_fields(user, None),
    )


def bulk_update_with_audit(
    model: type[Model],
    objs: Sequence[Model],
    fields: Sequence[str],
    *,
    user: Any = None,
    batch_size: int = 1000,
) -> int:
    """``bulk_update`` that also writes one "changed" history row per object."""
    user = _acting_user(user)
    return bulk_update_with_history(
        objs,
        model,
        list(fields),
        batch_size=batch_size,
        default_user=user,
        custom_historical_attrs=actor_fields(user, None),
    )


@celery_signals.task_prerun.connect(dispatch_uid="core.audit_task_start")
def _task_start(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    if task_id is not None and task is not None:
        with translation.override("fr"):
            label = gettext("tâche « %(name)s »") % {"name": task.name.rsplit(".", 1)[-1]}
        _task_tokens[task_id] = _actor.set(label)


@celery_signals.task_postrun.connect(dispatch_uid="core.audit_task_end")
def _task_end(task_id: str | None = None, **kwargs: Any) -> None:
    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        try:
            _actor.reset(token)
        except ValueError:  # set in another context (a worker thread): nothing to restore
            _actor.set(None)
