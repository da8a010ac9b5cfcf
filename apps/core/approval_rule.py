"""The two-person rule: which publications wait for a validator, and the request they open.

A person (a staff session, in the admin or the API) who publishes or schedules an item needs
the approval of a *validateur* of the item's organization, other than themselves, when:

- the item notifies at urgency *alerte* (``ALERT``), or notifies the whole city (no geometry,
  ``CITY_WIDE``) — whoever they are, validators and superusers included;
- or they are a *rédacteur* of the organization (``ROLE``): rédacteurs write and submit,
  validators publish. Superusers count as validators of every organization.

The system acting (``user=None``: an organization's API key, an import, the beat publishing a
schedule that was approved) is not a person and is not held. ``content_publish`` and
``content_schedule`` ask ``approval_reasons`` and, when it is not empty, open a request
(``approval_submit``) instead of publishing: the item stays a draft, nothing is notified to
residents. ``apps.core.approvals`` approves (the publication goes ahead) or refuses.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core.models import (
    ApprovalAction,
    ApprovalRequest,
    ApprovalState,
    Membership,
    PublishableContent,
    Urgency,
)
from apps.core.registry import content_models

logger = logging.getLogger(__name__)

ALERT = "alert"
CITY_WIDE = "city_wide"
ROLE = "role"

REASON_LABELS = {
    ALERT: gettext_lazy("notification d'alerte"),
    CITY_WIDE: gettext_lazy("notification à toute la ville"),
    ROLE: gettext_lazy("demandée par un rédacteur"),
}


def is_person(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def is_validator(user: Any, organization_id: int) -> bool:
    """May ``user`` approve the publications of the organization (superusers: everywhere)?"""
    if not is_person(user) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(
        user=user, organization_id=organization_id, role=Membership.Role.VALIDATOR
    ).exists()


def sensitive_reasons(item: PublishableContent) -> list[str]:
    """The two-person reasons the item carries by itself (an alert, a city-wide push)."""
    reasons = []
    if item.notify and item.urgency == Urgency.ALERT:
        reasons.append(ALERT)
    if item.notify and item.geometry is None:
        reasons.append(CITY_WIDE)
    return reasons


def approval_reasons(*, item: PublishableContent, user: Any) -> list[str]:
    """Why ``user`` publishing ``item`` needs a validator's approval (empty: it does not)."""
    if not is_person(user):
        return []
    reasons = sensitive_reasons(item)
    if not is_validator(user, item.organization_id):
        reasons.append(ROLE)
    return reasons


def reasons_text(codes: str | list[str]) -> str:
    """The reasons as staff read them: "notification d'alerte, demandée par un rédacteur"."""
    if isinstance(codes, str):
        codes = [code for code in codes.split(",") if code]
    return ", ".join(str(REASON_LABELS.get(code, code)) for code in codes)


def validators_to_tell(*, request: ApprovalRequest, besides: Any) -> list[str]:
    """E-mail addresses of the people who may decide on ``request`` (not ``besides``).

    The organization's active validators; when it has none other than ``besides``, the
    superusers (somebody must be able to approve).
    """
    user_model = get_user_model()
    people = user_model.objects.filter(
        is_active=True,
        memberships__organization_id=request.organization_id,
        memberships__role=Membership.Role.VALIDATOR,
    )
    if besides is not None:
        people = people.exclude(pk=besides.pk)
    if not people.exists():
        people = user_model.objects.filter(is_active=True, is_superuser=True)
        if besides is not None:
            people = people.exclude(pk=besides.pk)
    return sorted({email for email in people.values_list("email", flat=True) if email})


def item_admin_link(request: ApprovalRequest) -> str:
    """The absolute address of the item's change form in the admin."""
    model = content_models().get(request.item_type)
    if model is None:
        return settings.SITE_URL
    opts = model._meta
    try:
        path = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[request.item_id])
    except NoReverseMatch:
        return settings.SITE_URL
    return f"{settings.SITE_URL}{path}"


def mail_on_commit(*, subject: str, body: str, recipients: list[str]) -> None:
    """Send a staff e-mail once the transaction commits; a mail server down is logged only
    (the admin's list of requests is the reference, the e-mail a courtesy)."""
    if not recipients:
        return

    def send() -> None:
        try:
            send_mail(subject, body, None, recipients)
        except OSError as exc:  # SMTP refused or unreachable
            logger.error("approval e-mail not sent (%s): %s", subject, exc)

    transaction.on_commit(send)


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "—"


def approval_submit(
    *,
    item: PublishableContent,
    user: Any,
    action: str,
    reasons: list[str],
    publish_at: datetime | None = None,
) -> ApprovalRequest:
    """Open a request to publish (or schedule at ``publish_at``) ``item`` and tell validators.

    Runs inside the caller's transaction with the item's row locked. Refused
    (``ValidationError``) when the item already waits for a decision.
    """
    if ApprovalRequest.objects.for_item(item).pending().exists():
        raise ValidationError(
            _("Ce contenu attend déjà une validation : un validateur doit décider d'abord.")
        )
    request = ApprovalRequest.objects.create(
        item_type=item.type_code,
        item_id=item.pk,
        item_title=str(item.title)[:200],
        organization_id=item.organization_id,
        action=action,
        publish_at=publish_at if action == ApprovalAction.SCHEDULE else None,
        reasons=",".join(reasons),
        requested_by=user,
        requested_at=timezone.now(),
    )
    when = ""
    if action == ApprovalAction.SCHEDULE and publish_at is not None:
        when = _(" le %(date)s") % {
            "date": timezone.localtime(publish_at).strftime("%d/%m/%Y %H:%M")
        }
    mail_on_commit(
        subject=_("[Quartier] À valider : %(title)s") % {"title": request.item_title},
        body=_(
            "%(who)s demande de publier%(when)s « %(title)s » (%(org)s).\n"
            "Validation requise : %(reasons)s.\n\n"
            "Approuvez ou refusez la demande sur la fiche du contenu :\n%(link)s\n"
        )
        % {
            "who": _name(user),
            "when": when,
            "title": request.item_title,
            "org": item.organization,
            "reasons": reasons_text(reasons),
            "link": item_admin_link(request),
        },
        recipients=validators_to_tell(request=request, besides=user),
    )
    logger.info("approval requested for %s/%s (%s)", item.type_code, item.pk, ",".join(reasons))
    return request


def approval_pending(item: PublishableContent) -> ApprovalRequest | None:
    """The item's request waiting for a decision, if any."""
    if item.pk is None:
        return None
    return ApprovalRequest.objects.for_item(item).pending().first()


def approval_withdraw_pending(*, item: PublishableContent) -> int:
    """Withdraw the item's pending request (the item went back to draft, or was deleted)."""
    if item.pk is None:
        return 0
    return (
        ApprovalRequest.objects.for_item(item)
        .pending()
        .update(state=ApprovalState.WITHDRAWN, decided_at=timezone.now())
    )
