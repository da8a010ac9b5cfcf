"""A validator's decision on a publication request: approve (it is published) or refuse.

The requests are opened by ``content_publish`` / ``content_schedule`` under the two-person
rule (``apps.core.approval_rule``). Each decision runs in one transaction with the request and
the item locked; approving publishes (or schedules) through the same services, so the push
leaves in that transaction's outbox and not before.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.approval_rule import (
    is_validator,
    item_admin_link,
    mail_on_commit,
    validators_to_tell,
)
from apps.core.models import ApprovalAction, ApprovalRequest, ApprovalState, PublishableContent
from apps.core.registry import content_models
from apps.core.services import content_publish, content_schedule

logger = logging.getLogger(__name__)

#: The longest refusal reason kept (a few sentences; the form says so).
REFUSAL_REASON_MAX = 2000


def _decidable(request: ApprovalRequest, user: Any) -> ApprovalRequest:
    """The request, locked, if ``user`` may decide on it now; else refuse."""
    locked = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if locked.state != ApprovalState.PENDING:
        raise ValidationError(_("Cette demande a déjà été traitée."))
    if not is_validator(user, locked.organization_id):
        raise PermissionDenied(_("Seul un validateur de l'organisation peut décider."))
    if locked.requested_by_id == user.pk:
        raise PermissionDenied(
            _(
                "Vous ne pouvez pas décider de votre propre demande : une seconde personne "
                "doit le faire."
            )
        )
    return locked


def _item(request: ApprovalRequest) -> PublishableContent:
    model = content_models().get(request.item_type)
    item = model.objects.filter(pk=request.item_id).first() if model is not None else None
    if item is None:
        raise ValidationError(_("Ce contenu n'existe plus."))
    return item


def _decided(request: ApprovalRequest, user: Any, state: str, reason: str = "") -> None:
    request.state = state
    request.decided_by = user
    request.decided_at = timezone.now()
    request.refusal_reason = reason
    request.save(update_fields=["state", "decided_by", "decided_at", "refusal_reason"])


def _tell(request: ApprovalRequest, user: Any, subject: str, body: str) -> None:
    """Tell the requester and the other validators of a decision (not the one who took it)."""
    recipients = set(validators_to_tell(request=request, besides=user))
    if request.requested_by.email and request.requested_by_id != user.pk:
        recipients.add(request.requested_by.email)
    mail_on_commit(subject=subject, body=body, recipients=sorted(recipients))


def _name(user: Any) -> str:
    return user.get_full_name() or user.get_username()


@transaction.atomic
def approval_approve(*, request: ApprovalRequest, user: Any) -> PublishableContent:
    """Approve ``request`` as ``user`` (a validator, not the requester): the item is published
    now, or scheduled at the requested date (published now if that date has passed)."""
    locked = _decidable(request, user)
    item = _item(locked)
    _decided(locked, user, ApprovalState.APPROVED)
    now = timezone.now()
    if locked.action == ApprovalAction.SCHEDULE and locked.publish_at and locked.publish_at > now:
        item = content_schedule(item=item, publish_at=locked.publish_at, user=user, approved=True)
    else:
        item = content_publish(item=item, user=user, approved=True)
    _tell(
        locked,
        user,
        _("[Quartier] Approuvé : %(title)s") % {"title": locked.item_title},
        _("%(who)s a approuvé la publication de « %(title)s ».\n\n%(link)s\n")
        % {"who": _name(user), "title": locked.item_title, "link": item_admin_link(locked)},
    )
    _sync(request, locked)
    logger.info("approval %s approved for %s/%s", locked.pk, locked.item_type, locked.item_id)
    return item


@transaction.atomic
def approval_refuse(*, request: ApprovalRequest, user: Any, reason: str) -> ApprovalRequest:
    """Refuse ``request`` as ``user`` with ``reason`` (required): the item stays a draft."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indiquez le motif du refus.")})
    if len(reason) > REFUSAL_REASON_MAX:
        raise ValidationError(
            {
                "reason": _("Motif trop long (%(max)d caractères au plus).")
                % {"max": REFUSAL_REASON_MAX}
            }
        )
    locked = _decidable(request, user)
    _decided(locked, user, ApprovalState.REFUSED, reason)
    _tell(
        locked,
        user,
        _("[Quartier] Refusé : %(title)s") % {"title": locked.item_title},
        _("%(who)s a refusé la publication de « %(title)s ».\nMotif : %(reason)s\n\n%(link)s\n")
        % {
            "who": _name(user),
            "title": locked.item_title,
            "reason": reason,
            "link": item_admin_link(locked),
        },
    )
    _sync(request, locked)
    logger.info("approval %s refused for %s/%s", locked.pk, locked.item_type, locked.item_id)
    return locked


def _sync(request: ApprovalRequest, locked: ApprovalRequest) -> None:
    for name in ("state", "decided_by", "decided_at", "refusal_reason"):
        setattr(request, name, getattr(locked, name))


def approval_history(item: PublishableContent) -> list[ApprovalRequest]:
    """The item's requests, newest first, with the people who asked and decided."""
    if item.pk is None:
        return []
    return list(ApprovalRequest.objects.for_item(item).select_related("requested_by", "decided_by"))
