"""Warnings in the admin: a scheduled notifying item past its time, deliveries stuck."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from apps.core.services import content_areas_refresh, content_publish, content_schedule
from apps.notifications import services
from apps.notifications.models import Delivery, DeliveryStatus
from tests.admin.conftest import admin_url
from tests.disclosure_support import shown_for
from tests.factories import NewsFactory, WorksFactory
from tests.notifications.helpers import phone

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
CHANGELIST = reverse("admin:notifications_notification_changelist")


def banner(html: str, kind: str) -> str | None:
    found = re.search(rf'<li class="warning" id="{kind}">(.*?)</li>\n', html, re.S)
    return found.group(1) if found else None


@pytest.fixture
def scheduled(city, mobility):
    """A notifying roadwork of the city scheduled in five minutes."""
    works = WorksFactory(organization=city, category=mobility, notify=True, title_fr="Pont levé")
    content_schedule(item=works, publish_at=timezone.now() + timedelta(minutes=5))
    return works


def test_a_late_scheduled_send_is_announced_everywhere(editor_client, scheduled):
    with time_machine.travel(timezone.now() + timedelta(minutes=8)):
        index = editor_client.get(INDEX).content.decode()
        listing = editor_client.get(CHANGELIST).content.decode()
        form = editor_client.get(admin_url("works", "change", scheduled.pk)).content.decode()

    item_url = admin_url("works", "change", scheduled.pk)
    for html in (index, listing):
        late = banner(html, "late-sends")
        assert late is not None
        assert "1 contenu programmé avec notification n'est toujours pas publié" in late
        assert f'<a href="{item_url}">Pont levé</a>' in late
    assert "Publication en retard" in form
    assert 'id="late-send"' in form


def test_no_warning_within_the_grace_period_or_without_notify(editor_client, scheduled, city):
    quiet = NewsFactory(organization=city, notify=False)
    content_schedule(item=quiet, publish_at=timezone.now() + timedelta(minutes=1))

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        index = editor_client.get(INDEX).content.decode()
        form = editor_client.get(admin_url("works", "change", scheduled.pk)).content.decode()

    assert banner(index, "late-sends") is None
    assert 'id="late-send"' not in form


def test_other_organizations_do_not_see_the_citys_late_item(metropole_client, scheduled):
    with time_machine.travel(timezone.now() + timedelta(minutes=8)):
        index = metropole_client.get(INDEX).content.decode()

    assert banner(index, "late-sends") is None
    assert "Pont levé" not in index


def test_superusers_see_every_late_item(superuser_client, scheduled):
    with time_machine.travel(timezone.now() + timedelta(minutes=8)):
        index = superuser_client.get(INDEX).content.decode()

    assert "Pont levé" in banner(index, "late-sends")


@pytest.fixture
def undispatched(city, mobility, log_backend):
    """A published notifying roadwork whose ``dispatch`` never ran (the on-commit enqueue was
    lost): its six deliveries wait in ``pending``."""
    for _ in range(6):
        phone(follows=[mobility])
    works = WorksFactory(organization=city, category=mobility, notify=True)
    content_areas_refresh(item=works)
    content_publish(item=works)  # in the test's transaction: on-commit callbacks never run
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 6
    return works


def test_stuck_deliveries_are_announced_until_the_sweeper_runs(editor_client, undispatched):
    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    undispatched_devices = list(Delivery.objects.values_list("device_id", flat=True))
    # a worker claimed two of them and died
    Delivery.objects.filter(pk__in=ids[:2]).update(
        status=DeliveryStatus.SENDING, claimed_at=timezone.now()
    )
    assert banner(editor_client.get(INDEX).content.decode(), "stuck-deliveries") is None

    later = timezone.now() + timedelta(minutes=6)
    with time_machine.travel(later):
        index = editor_client.get(INDEX).content.decode()
        listing = editor_client.get(CHANGELIST).content.decode()
        services.deliveries_sweep(now=later)
        after = editor_client.get(INDEX).content.decode()

    stuck = banner(index, "stuck-deliveries")
    assert stuck is not None
    # rounded (6: 5 or 10, by the key of those devices); 2 and 4 masked
    assert f"Environ {shown_for(undispatched_devices)} envois de notification sont bloqués" in stuck
    assert (
        "en cours d'envoi depuis plus de 120 s : masqué ; en attente depuis plus de 300 s : masqué"
        in stuck
    )
    assert banner(listing, "stuck-deliveries") == stuck
    assert banner(after, "stuck-deliveries") is None


def test_stuck_deliveries_of_other_organizations_are_not_shown(metropole_client, undispatched):
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        index = metropole_client.get(INDEX).content.decode()

    assert banner(index, "stuck-deliveries") is None
