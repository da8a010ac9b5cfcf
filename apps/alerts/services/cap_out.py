"""CAP out: the CAP 1.2 messages that follow our publications, updates and withdrawals."""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.alerts.cap.build import cancel_document, cap_document, reference_of
from apps.alerts.cap.schema import StandardsMissingError, cap_errors
from apps.alerts.models import CapMessage, MsgType
from apps.alerts.outgoing import alert_content, cap_eligible
from apps.core.models import PublishableContent

logger = logging.getLogger(__name__)


def _series(item_type: str, item_id: int) -> list[CapMessage]:
    """The item's messages since its last cancel (the ones an update or cancel references)."""
    messages = list(CapMessage.objects.of_item(item_type, item_id).order_by("sent_at", "id"))
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].msg_type == MsgType.CANCEL:
            return messages[index + 1 :]
    return messages


def _references(series: list[CapMessage]) -> str:
    zone = settings.TIME_ZONE
    return " ".join(
        reference_of(sender=m.sender, identifier=m.identifier, sent=m.sent_at, zone=zone)
        for m in series
    )


def _identifier(item_type: str, item_id: int) -> str:
    return f"{item_type}-{item_id}-{uuid.uuid4().hex[:12]}"


def _store(
    *,
    document: bytes,
    sender: str,
    item_type: str,
    item_id: int,
    identifier: str,
    msg_type: str,
    status: str,
    sent_at,
    references: str,
    headline: str,
    expires_at=None,
) -> CapMessage | None:
    try:
        errors = cap_errors(document)
    except StandardsMissingError as error:  # a deployment without the schema: no CAP, but
        logger.error("CAP message for %s/%s not published: %s", item_type, item_id, error)
        return None  # the publication and its push go on
    if errors:  # never publish an invalid CAP message; the push itself is not held back
        logger.error(
            "CAP message for %s/%s is invalid, not published: %s",
            item_type,
            item_id,
            "; ".join(errors),
        )
        return None
    return CapMessage.objects.create(
        identifier=identifier,
        sender=sender,
        item_type=item_type,
        item_id=item_id,
        msg_type=msg_type,
        status=status,
        sent_at=sent_at,
        expires_at=expires_at,
        references=references,
        headline=headline[:250],
        document=document.decode(),
    )


@transaction.atomic
def cap_item_publish(*, item: PublishableContent) -> CapMessage | None:
    """The CAP message of a publication or a material change of ``item``: ``Alert`` the
    first time (or after a cancel), ``Update`` referencing the series after that. Nothing for
    an item below the CAP threshold (``cap_eligible``)."""
    if not cap_eligible(item):
        return None
    series = _series(item.type_code, item.pk)
    msg_type = MsgType.UPDATE if series else MsgType.ALERT
    sent = timezone.now().replace(microsecond=0)
    identifier = _identifier(item.type_code, item.pk)
    references = _references(series)
    content = alert_content(
        item, identifier=identifier, msg_type=msg_type, references=references, sent=sent
    )
    document = cap_document(content, zone=settings.TIME_ZONE)
    return _store(
        document=document,
        sender=content.sender,
        item_type=item.type_code,
        item_id=item.pk,
        identifier=identifier,
        msg_type=msg_type,
        status=content.status,
        sent_at=sent,
        references=references,
        headline=content.infos[0].headline if content.infos else "",
        expires_at=content.expires,
    )


@transaction.atomic
def cap_item_cancel(*, item_type: str, item_id: int) -> CapMessage | None:
    """The ``Cancel`` of the item's current series (withdrawn, archived, deleted, cancelled);
    nothing when it has no CAP message or was cancelled already."""
    series = _series(item_type, item_id)
    if not series:
        return None
    last = series[-1]
    sent = timezone.now().replace(microsecond=0)
    identifier = _identifier(item_type, item_id)
    references = _references(series)
    document = cancel_document(
        last.document.encode(),
        identifier=identifier,
        sent=sent,
        references=references,
        zone=settings.TIME_ZONE,
    )
    return _store(
        document=document,
        sender=last.sender,
        item_type=item_type,
        item_id=item_id,
        identifier=identifier,
        msg_type=MsgType.CANCEL,
        status=last.status,
        sent_at=sent,
        references=references,
        headline=last.headline,
        expires_at=last.expires_at,
    )
