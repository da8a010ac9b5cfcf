"""The DiaLog outbox: a change row per write of a linked roadwork, and the sending of them.

Like the push outbox (``apps.notifications.services``): rows are written in the roadwork's own
transaction (``receivers``), a Celery task is enqueued on commit, the task claims one change
at a time per regulation (``SELECT … FOR UPDATE SKIP LOCKED`` on the regulation), sends it,
records the answer, and retries with backoff; the sweeper takes back changes whose worker
died or whose task was lost. Idempotent by identifier: every request names the regulation by
``identifier``; an update replaces the whole regulation; a create that may have reached
DiaLog before a crash is checked against ``GET /api/organization/identifiers`` first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.models import Organization, Status
from apps.interop.dialog import policy
from apps.interop.dialog.client import Answer, DialogClient
from apps.interop.dialog.payload import NothingToSendError, fingerprint, regulation_body
from apps.interop.dialog.secrets import SecretUnreadableError, secret_decrypt, secret_encrypt
from apps.interop.models import (
    ChangeAction,
    ChangeStatus,
    DialogChange,
    DialogLink,
    DialogRegulation,
    RemoteState,
)
from apps.works.models import Works, WorkStatus

logger = logging.getLogger(__name__)

SYNC_TASK = "apps.interop.tasks.dialog_sync"
#: A task sends at most this many changes of one regulation, then hands over to a new task.
MAX_CHANGES_PER_RUN = 20


# --------------------------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------------------------


@transaction.atomic
def dialog_link_save(
    *,
    organization: Organization,
    client_id: str,
    client_secret: str | None = None,
    identifier_prefix: str | None = None,
    enabled: bool = True,
) -> DialogLink:
    """Create or update the organisation's DiaLog link; ``client_secret=None`` keeps the old."""
    link = DialogLink.objects.filter(organization=organization).first()
    if link is None:
        if not client_secret:
            raise ValueError("a new DiaLog link needs its client secret")
        link = DialogLink(organization=organization)
    link.client_id = client_id
    if client_secret:
        link.secret_encrypted = secret_encrypt(client_secret)
    if identifier_prefix is not None:
        link.identifier_prefix = identifier_prefix
    link.enabled = enabled
    link.full_clean()
    link.save()
    return link


# --------------------------------------------------------------------------------------------
# Recording changes (in the roadwork's transaction)
# --------------------------------------------------------------------------------------------


def _enqueue(regulation_id: int, *, countdown: float = 0.0) -> None:
    task = current_app.tasks[SYNC_TASK]
    if countdown > 0:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            return  # embedded mode: the sweeper sends it when it is due
        task.apply_async((regulation_id,), countdown=countdown)
    else:
        task.delay(regulation_id)


def _add_change(regulation: DialogRegulation, action: str) -> DialogChange:
    now = timezone.now()
    change = DialogChange.objects.create(regulation=regulation, action=action, enqueued_at=now)
    # robust: a broker down must not turn a committed edit into a 500; the sweeper sends it.
    transaction.on_commit(lambda: _enqueue(regulation.pk), robust=True)
    return change


def _is_public(row: Mapping[str, Any], now: datetime) -> bool:
    return (
        row["status"] == Status.PUBLISHED
        and (row["expires_at"] is None or row["expires_at"] > now)
        and row["work_status"] != WorkStatus.CANCELLED
    )


def _change_facts(works: QuerySet) -> QuerySet:
    """What deciding a works' DiaLog change reads, one row per works: its state, its
    organisation's link, whether an import brought it and whether DiaLog already has it."""
    return works.values(
        "pk",
        "status",
        "work_status",
        "expires_at",
        "organization_id",
        linked=F("organization__dialog_link__enabled"),
        prefix=F("organization__dialog_link__identifier_prefix"),
        imported=F("import_origin__id"),
        sent=Exists(DialogRegulation.objects.filter(works_id=OuterRef("pk"))),
    )


def works_change_record(*, works_id: int) -> DialogChange | None:
    """Record what a write of works ``works_id`` means for DiaLog; return the change added.

    Public works of a linked organisation (not brought in by an import source: those come from
    elsewhere, maybe from DiaLog itself) get an ``upsert``; works that left the public set
    (unpublished, cancelled, deleted) and had a regulation get a ``delete``. Archived works
    (expired) keep theirs: its periods end it. One pending change of a kind is enough: it sends
    the roadwork as it is when it goes.
    """
    now = timezone.now()
    row = _change_facts(Works.objects.filter(pk=works_id)).first()
    if row is not None and not row["linked"] and not row["sent"]:
        return None  # the common case, one query: an organisation not linked to DiaLog
    return _change_record(works_id=works_id, row=row, now=now)


def works_changes_record(*, works_ids: list[int]) -> list[DialogChange]:
    """``works_change_record`` of many works written together (a bulk import), in one query
    for the works that can mean nothing to DiaLog: those of organisations not linked and
    never sent, works an import brought in (DiaLog does not get them back) and works never
    sent that are not public."""
    if not works_ids:
        return []
    now = timezone.now()
    rows = _change_facts(Works.objects.filter(pk__in=works_ids))
    changes = []
    for row in rows:
        if not row["sent"] and (
            not row["linked"] or row["imported"] is not None or not _is_public(row, now)
        ):
            continue  # what _change_record would answer None to, without its queries
        change = _change_record(works_id=row["pk"], row=row, now=now)
        if change is not None:
            changes.append(change)
    return changes


@transaction.atomic
def _change_record(
    *, works_id: int, row: Mapping[str, Any] | None, now: datetime
) -> DialogChange | None:
    """``works_change_record`` past its one-query exit, in a transaction of its own (the works
    clock sends ``content_saved`` outside any)."""
    # Locked until the edit commits: a worker cannot claim the pending change (and read the
    # works as they were) between the check below and the commit of this edit.
    regulation = DialogRegulation.objects.select_for_update().filter(works_id=works_id).first()
    latest = regulation.changes.order_by("-created_at", "-id").first() if regulation else None
    if row is not None and _is_public(row, now):
        if not row["linked"] or row["imported"] is not None:
            return None
        if regulation is None:
            regulation = DialogRegulation.objects.create(
                works_id=works_id,
                organization_id=row["organization_id"],
                identifier=f"{row['prefix']}{works_id}",
            )
        elif (
            latest is not None
            and latest.action == ChangeAction.UPSERT
            and (latest.status == ChangeStatus.PENDING)
        ):
            return None
        return _add_change(regulation, ChangeAction.UPSERT)
    if regulation is None:
        return None
    if (
        row is not None
        and row["status"] == Status.ARCHIVED
        and (row["work_status"] != WorkStatus.CANCELLED)
    ):
        return None
    if (
        latest is not None
        and latest.action == ChangeAction.DELETE
        and (latest.status != ChangeStatus.FAILED)
    ):
        return None
    return _add_change(regulation, ChangeAction.DELETE)


# --------------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    done: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    requests: int = 0


def _claim(regulation_id: int, now: datetime) -> DialogChange | None:
    """The regulation's oldest pending change, due, marked sending; ``None`` when another
    worker holds the regulation, a change of it is in flight, or nothing is due."""
    with transaction.atomic():
        regulation = (
            DialogRegulation.objects.select_for_update(skip_locked=True)
            .filter(pk=regulation_id)
            .first()
        )
        if regulation is None:
            return None
        changes = regulation.changes.all()
        if changes.filter(status=ChangeStatus.SENDING).exists():
            return None
        while True:
            change = (
                changes.filter(status=ChangeStatus.PENDING).order_by("created_at", "id").first()
            )
            if change is None or (change.not_before is not None and change.not_before > now):
                return None
            if change.attempts < settings.DIALOG_MAX_ATTEMPTS:
                break
            _finish(change, ChangeStatus.FAILED, message=change.error or _("Abandon."))
        change.status = ChangeStatus.SENDING
        change.attempts += 1
        change.claimed_at = now
        change.save(update_fields=["status", "attempts", "claimed_at"])
        change.regulation = regulation
        return change


def _finish(
    change: DialogChange,
    status: str,
    *,
    message: str = "",
    violations: tuple[dict[str, Any], ...] | list[dict[str, Any]] = (),
    http_status: int | None = None,
) -> None:
    change.status = status
    change.error = message
    change.violations = list(violations)
    change.http_status = http_status
    change.done_at = timezone.now() if status != ChangeStatus.PENDING else None
    change.save(update_fields=["status", "error", "violations", "http_status", "done_at"])


def _remote(regulation: DialogRegulation, **values: Any) -> None:
    for name, value in values.items():
        setattr(regulation, name, value)
    DialogRegulation.objects.filter(pk=regulation.pk).update(updated_at=timezone.now(), **values)


def _identifier_taken(answer: Answer) -> bool:
    """A 422 on ``identifier`` to a create: DiaLog may already hold it (checked by the caller
    against ``GET /api/organization/identifiers`` before it is taken as ours)."""
    violations = answer.data.get("violations") if answer.status == 422 else None
    return isinstance(violations, list) and any(
        isinstance(v, dict) and v.get("propertyPath") == "identifier" for v in violations
    )


class _StopError(Exception):
    """The change ended (retry later, refused or failed); the answer was recorded."""


class _Sender:
    """One change's requests, each answer judged by ``policy.decide``."""

    def __init__(self, change: DialogChange, client: DialogClient, report: SyncReport) -> None:
        self.change = change
        self.regulation = change.regulation
        self.client = client
        self.report = report

    def judge(self, method: str, answer: Answer) -> policy.Verdict:
        self.report.requests += 1
        decision = policy.decide(
            method=method,
            status=answer.status,
            data=answer.data,
            failure=answer.failure,
            retry_after_s=answer.retry_after_s,
            attempts=self.change.attempts,
            max_attempts=settings.DIALOG_MAX_ATTEMPTS,
            base_s=settings.DIALOG_RETRY_BASE_S,
        )
        if decision.verdict in (policy.Verdict.DONE, policy.Verdict.RECREATE):
            return decision.verdict
        change = self.change
        if decision.verdict is policy.Verdict.RETRY:
            change.not_before = timezone.now() + timedelta(seconds=decision.delay_s)
            change.enqueued_at = timezone.now()
            change.save(update_fields=["not_before", "enqueued_at"])
            _finish(
                change, ChangeStatus.PENDING, message=decision.message, http_status=answer.status
            )
            self.report.retried += 1
            regulation_id = self.regulation.pk
            transaction.on_commit(
                lambda: _enqueue(regulation_id, countdown=decision.delay_s), robust=True
            )
        else:
            _finish(
                change,
                ChangeStatus.FAILED,
                message=decision.message,
                violations=decision.violations,
                http_status=answer.status,
            )
            self.report.failed += 1
            logger.warning("DiaLog %s: %s", self.regulation.identifier, decision.message)
        raise _StopError

    def upsert(self) -> None:
        regulation = self.regulation
        works = Works.objects.filter(pk=regulation.works_id).prefetch_related("periods").first()
        now = timezone.now()
        public = works is not None and _is_public(
            {
                "status": works.status,
                "expires_at": works.expires_at,
                "work_status": works.work_status,
            },
            now,
        )
        if not public:
            self.skip(_("Le chantier n'est plus public : rien à publier."))
            return
        assert works is not None
        try:
            body = regulation_body(works, identifier=regulation.identifier, status="published")
        except NothingToSendError as exc:
            self.skip(str(exc))
            return
        digest = fingerprint(body)
        state = regulation.remote_state
        if state in (RemoteState.ABSENT, RemoteState.DELETED) and regulation.touched:
            state = self.known_state()
        for _round in range(2):
            if state == RemoteState.PUBLISHED and digest == regulation.sent_fingerprint:
                self.skip(_("Arrêté déjà à jour dans DiaLog."))
                return
            if state == RemoteState.DRAFT and digest == regulation.sent_fingerprint:
                verdict = self.judge("PUT", self.client.publish(regulation.identifier))
            elif state in (RemoteState.DRAFT, RemoteState.PUBLISHED):
                verdict = self.judge("PUT", self.client.update(body))
            else:
                _remote(regulation, touched=True)
                answer = self.client.create({**body, "status": "draft"})
                if _identifier_taken(answer) and self.known_state() == RemoteState.DRAFT:
                    state = RemoteState.DRAFT  # ours, left from a lost record: update it
                    self.report.requests += 1
                    continue
                verdict = self.judge("POST", answer)
                if verdict is policy.Verdict.DONE:
                    _remote(regulation, remote_state=RemoteState.DRAFT, sent_fingerprint=digest)
                    verdict = self.judge("PUT", self.client.publish(regulation.identifier))
            if verdict is policy.Verdict.DONE:
                _remote(
                    regulation,
                    remote_state=RemoteState.PUBLISHED,
                    sent_fingerprint=digest,
                    last_sent_at=timezone.now(),
                )
                self.done()
                return
            state = RemoteState.ABSENT  # RECREATE: DiaLog lost it
            _remote(regulation, remote_state=state, sent_fingerprint="")
        self.judge("POST", Answer(status=0, failure="recreate loop"))

    def known_state(self) -> str:
        """Whether an earlier, unrecorded create reached DiaLog (a worker died after it)."""
        answer = self.client.identifiers()
        if not answer.ok:
            self.judge("GET", answer)
        found = answer.data.get("identifiers", answer.data.get("items", []))
        if isinstance(found, list) and self.regulation.identifier in found:
            _remote(self.regulation, remote_state=RemoteState.DRAFT, sent_fingerprint="")
            return RemoteState.DRAFT
        return RemoteState.ABSENT

    def delete(self) -> None:
        regulation = self.regulation
        if regulation.remote_state == RemoteState.DELETED or (
            regulation.remote_state == RemoteState.ABSENT and not regulation.touched
        ):
            self.skip(_("Jamais transmis à DiaLog : rien à supprimer."))
            return
        self.judge("DELETE", self.client.delete(regulation.identifier))
        _remote(
            regulation,
            remote_state=RemoteState.DELETED,
            sent_fingerprint="",
            touched=False,
            last_sent_at=timezone.now(),
        )
        self.done()

    def skip(self, message: str) -> None:
        _finish(self.change, ChangeStatus.SKIPPED, message=message)
        self.report.skipped += 1

    def done(self) -> None:
        _finish(self.change, ChangeStatus.DONE, http_status=200)
        self.report.done += 1


def _client_for(change: DialogChange) -> DialogClient | None:
    link = DialogLink.objects.filter(
        organization_id=change.regulation.organization_id, enabled=True
    ).first()
    message = _("La liaison DiaLog de l'organisation est désactivée ou supprimée.")
    if link is not None:
        try:
            secret = secret_decrypt(link.secret_encrypted)
        except SecretUnreadableError as exc:
            message = str(exc)
        else:
            return DialogClient(
                base_url=settings.DIALOG_URL, client_id=link.client_id, client_secret=secret
            )
    _finish(change, ChangeStatus.FAILED, message=message)
    return None


def regulation_sync(*, regulation_id: int) -> SyncReport:
    """Send the due changes of one regulation, in order, one at a time (the Celery task)."""
    report = SyncReport()
    for _n in range(MAX_CHANGES_PER_RUN):
        change = _claim(regulation_id, timezone.now())
        if change is None:
            return report
        client = _client_for(change)
        if client is None:
            report.failed += 1
            continue
        with client:
            sender = _Sender(change, client, report)
            try:
                if change.action == ChangeAction.UPSERT:
                    sender.upsert()
                else:
                    sender.delete()
            except _StopError:
                if change.status == ChangeStatus.PENDING:
                    return report  # waiting for its retry: the later changes wait behind it
    transaction.on_commit(lambda: _enqueue(regulation_id), robust=True)
    return report


# --------------------------------------------------------------------------------------------
# Recovery
# --------------------------------------------------------------------------------------------


def dialog_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Take back stuck changes (beat, every minute), like the push sweeper.

    - sending for more than ``DIALOG_STUCK_S`` (the worker died mid-request): pending again,
      or failed when that was the last attempt;
    - pending and due, enqueued more than ``DIALOG_STUCK_S`` ago or never (a lost task, or a
      retry in embedded mode): enqueued again.
    """
    now = now or timezone.now()
    stuck = now - timedelta(seconds=settings.DIALOG_STUCK_S)
    with transaction.atomic():
        rows = list(
            DialogChange.objects.select_for_update(skip_locked=True)
            .filter(status=ChangeStatus.SENDING, claimed_at__lt=stuck)
            .values_list("pk", "attempts")
        )
        exhausted = [pk for pk, n in rows if n >= settings.DIALOG_MAX_ATTEMPTS]
        recovered = [pk for pk, n in rows if n < settings.DIALOG_MAX_ATTEMPTS]
        DialogChange.objects.filter(pk__in=recovered).update(
            status=ChangeStatus.PENDING, enqueued_at=None
        )
        DialogChange.objects.filter(pk__in=exhausted).update(
            status=ChangeStatus.FAILED,
            done_at=now,
            error=_("Abandon : le worker s'est arrêté pendant le dernier essai."),
        )
        due = DialogChange.objects.select_for_update(skip_locked=True).filter(
            Q(not_before__isnull=True) | Q(not_before__lte=now),
            Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stuck),
            status=ChangeStatus.PENDING,
        )
        lost = list(due.values_list("pk", "regulation_id"))
        DialogChange.objects.filter(pk__in=[pk for pk, _r in lost]).update(enqueued_at=now)
        regulations = sorted({r for _pk, r in lost})

        def enqueue_all() -> None:
            for regulation_id in regulations:
                _enqueue(regulation_id)

        transaction.on_commit(enqueue_all, robust=True)
    if recovered or exhausted or lost:
        logger.warning(
            "DiaLog sweeper: %d stuck changes taken back, %d failed, %d re-enqueued",
            len(recovered),
            len(exhausted),
            len(lost),
        )
    return {"recovered": len(recovered), "failed": len(exhausted), "lost": len(lost)}
