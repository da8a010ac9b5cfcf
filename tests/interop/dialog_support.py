"""What the DiaLog tests share: a linked organisation, closed works, publishing with commits."""

from __future__ import annotations

from contextlib import contextmanager

from apps.core.models import Status
from apps.interop.dialog.services import dialog_link_save
from apps.interop.models import DialogChange, DialogRegulation
from apps.works.models import RoadState
from tests.factories import OrganizationFactory, WorksFactory

CLIENT_ID = "quartier-client"
CLIENT_SECRET = "s3cret-dialog"


def linked_organization(**fields):
    organization = OrganizationFactory(**fields)
    dialog_link_save(organization=organization, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    return organization


def closed_works(organization, **fields):
    """Draft works closing a street (one ``noEntry`` measure), saved without the services."""
    defaults = {"status": Status.DRAFT, "road_state": RoadState.CLOSED, "title_fr": "Rue barrée"}
    return WorksFactory(organization=organization, **{**defaults, **fields})


def changes_of(works) -> list[DialogChange]:
    return list(DialogChange.objects.filter(regulation__works_id=works.pk).order_by("id"))


def regulation_of(works) -> DialogRegulation:
    return DialogRegulation.objects.get(works_id=works.pk)


@contextmanager
def committed(capture):
    """Run the on-commit callbacks (the outbox's enqueue, eager here) of the block."""
    with capture(execute=True):
        yield


def elapse(seconds: float) -> None:
    """Make ``seconds`` pass for the outbox: every stored time of the changes moves back."""
    from datetime import timedelta

    from django.db.models import F

    delta = timedelta(seconds=seconds)
    rows = DialogChange.objects.all()
    rows.filter(not_before__isnull=False).update(not_before=F("not_before") - delta)
    rows.filter(enqueued_at__isnull=False).update(enqueued_at=F("enqueued_at") - delta)
    rows.filter(claimed_at__isnull=False).update(claimed_at=F("claimed_at") - delta)


def sweep_after(seconds: float, capture) -> dict:
    """Let ``seconds`` pass, then run the sweeper (and the sends it enqueues)."""
    from apps.interop.dialog.services import dialog_sweep

    elapse(seconds)
    with capture(execute=True):
        return dialog_sweep()
