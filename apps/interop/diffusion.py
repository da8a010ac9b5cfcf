"""The "Diffusion" panel on a roadwork's change form: each channel, its state, its last error.

Three channels: residents (the item's notifications), DiaLog (the regulation and the outbox's
last change, with DiaLog's refusal and violations in French) and the open feeds (WZDx, CIFS,
DATEX II: included or not, and why). Registered with ``apps.core.admin.panels``; a few small
queries, only on the change form of works.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from apps.core.admin.panels import register_change_form_panel
from apps.core.models import Status
from apps.interop.datex2.measures import measures_of
from apps.interop.geometry import lines_of
from apps.interop.models import (
    ChangeStatus,
    DialogChange,
    DialogLink,
    DialogRegulation,
    RemoteState,
    SourceItem,
)
from apps.notifications.selectors import is_late, item_notifications
from apps.works.models import Works, WorkStatus


@dataclass
class Channel:
    """One row of the panel: ``ok`` (green), ``waiting`` or ``error`` (red), ``off`` (grey)."""

    key: str
    name: str
    state: str
    level: str
    error: str = ""
    details: list[str] = field(default_factory=list)


def _when(moment: Any) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y à H:i")


def residents_channel(works: Works) -> Channel:
    name = _("Habitants (notifications)")
    latest = item_notifications(works.type_code, works.pk).first()
    if is_late(works):
        return Channel(
            "residents",
            name,
            _("Publication programmée en retard : pas encore notifiée."),
            "error",
            error=_("La tâche de publication (Celery beat) ne tourne peut-être plus."),
        )
    if latest is not None:
        state = _("Notifiés : %(kind)s le %(at)s.") % {
            "kind": latest.get_kind_display(),
            "at": _when(latest.created_at),
        }
        return Channel("residents", name, state, "ok")
    if not works.notify:
        return Channel("residents", name, _("« Notifier » n'est pas coché : aucun envoi."), "off")
    if works.status == Status.PUBLISHED:
        return Channel("residents", name, _("Publié sans notification envoyée."), "off")
    return Channel("residents", name, _("Seront notifiés à la publication."), "waiting")


def dialog_channel(works: Works) -> Channel:
    name = _("DiaLog (arrêtés de circulation)")
    regulation = DialogRegulation.objects.filter(works_id=works.pk).first()
    link = DialogLink.objects.filter(organization_id=works.organization_id).first()
    if regulation is None:
        if link is None or not link.enabled:
            return Channel(
                "dialog", name, _("L'organisation n'est pas reliée à DiaLog : aucun envoi."), "off"
            )
        if SourceItem.objects.filter(works_id=works.pk).exists():
            return Channel(
                "dialog",
                name,
                _("Chantier importé d'une source : il n'est pas renvoyé à DiaLog."),
                "off",
            )
        if works.status != Status.PUBLISHED:
            return Channel(
                "dialog",
                name,
                _("Transmis à la publication (un brouillon n'est jamais envoyé)."),
                "waiting",
            )
        return Channel("dialog", name, _("Rien n'a encore été transmis."), "waiting")
    change = DialogChange.objects.filter(regulation=regulation).order_by("-created_at", "-id")
    latest = change.first()
    remote = RemoteState(regulation.remote_state).label
    state = _("Arrêté %(id)s : %(remote)s.") % {"id": regulation.identifier, "remote": remote}
    if regulation.last_sent_at is not None:
        state += " " + _("Dernier envoi le %(at)s.") % {"at": _when(regulation.last_sent_at)}
    if latest is None:
        return Channel("dialog", name, state, "ok")
    details = [
        f"{v.get('propertyPath') or '—'} : {v.get('title', '')}" for v in latest.violations or []
    ]
    if latest.status == ChangeStatus.FAILED:
        return Channel("dialog", name, state, "error", error=latest.error, details=details)
    if latest.status in (ChangeStatus.PENDING, ChangeStatus.SENDING):
        waiting = _("Envoi en cours (%(action)s, essai %(n)d).") % {
            "action": latest.get_action_display(),
            "n": max(latest.attempts, 1),
        }
        return Channel("dialog", name, f"{state} {waiting}", "waiting", error=latest.error)
    note = latest.error if latest.status == ChangeStatus.SKIPPED else ""
    level = "ok" if regulation.remote_state == RemoteState.PUBLISHED else "off"
    return Channel("dialog", name, state, level, details=[note] if note else [])


def feeds_channel(works: Works) -> Channel:
    name = _("Flux ouverts (WZDx, CIFS, DATEX II)")
    now = timezone.now()
    why = ""
    if works.status == Status.DRAFT:
        why = _("brouillon")
    elif works.status == Status.SCHEDULED:
        when = _when(works.publish_at) if works.publish_at else ""
        why = _("publication programmée le %(at)s") % {"at": when}
    elif works.status == Status.ARCHIVED:
        why = _("archivé")
    elif works.expires_at is not None and works.expires_at <= now:
        why = _("expiré")
    elif works.end_at <= now:
        why = _("terminé")
    elif works.publish_at is not None and works.publish_at > now:
        why = _("pas encore publié")
    if why:
        return Channel("feeds", name, _("Non inclus : %(why)s.") % {"why": why}, "off")
    details = []
    if works.work_status == WorkStatus.CANCELLED:
        details.append(_("Annoncé comme annulé."))
    if not measures_of(works) or not lines_of(works.geometry):
        details.append(
            _("Absent du flux DATEX II : aucune mesure de circulation ou pas de tracé linéaire.")
        )
    return Channel("feeds", name, _("Inclus dans les flux ouverts."), "ok", details=details)


@register_change_form_panel
def diffusion_panel(request: HttpRequest, obj: Any, model: type) -> str | None:
    """The panel's HTML for saved works; nothing elsewhere."""
    if model is not Works or obj is None or obj.pk is None:
        return None
    channels = [residents_channel(obj), dialog_channel(obj), feeds_channel(obj)]
    return render_to_string(
        "admin/interop/diffusion.html", {"channels": channels, "item": obj}, request=request
    )
