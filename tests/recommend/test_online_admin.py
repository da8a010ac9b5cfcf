"""The staff page of the online evaluation: per-day counters, the window's verdict and its
confidence interval, rollbacks; read-only, and only for staff allowed to view it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from apps.recommend.models import OnlineComparison, RankerRollback
from apps.recommend.store import ModelStore
from tests.recommend.online_support import deploy
from tests.staff import staff_login

pytestmark = pytest.mark.django_db
URL = reverse("admin:recommend_onlinecomparison_changelist")


@pytest.fixture
def counted(settings, model_dir):
    settings.ONLINE_EVAL_MIN_COMPARISONS = 100
    today = timezone.localdate()
    OnlineComparison.objects.create(
        day=today - timedelta(days=1), ranker="20260301T040200000000Z", reference="nearest",
        wins=70, losses=40, ties=12, impressions=300, counted_at=timezone.now(),
    )  # fmt: skip
    OnlineComparison.objects.create(
        day=today - timedelta(days=2), ranker="20260301T040200000000Z", reference="nearest",
        wins=10, losses=8, ties=1, impressions=40, counted_at=timezone.now(),
    )  # fmt: skip
    RankerRollback.objects.create(
        at=timezone.now(), version="20260201T040000000000Z", reference="nearest",
        restored="stage1", wins=20, losses=90, ties=5, p_value=1e-11, reason="worse",
    )  # fmt: skip
    return ModelStore(model_dir)


def test_online_admin_shows_the_window_verdict_with_its_interval(client, superuser, counted):
    deploy(counted, nearer_is_better=True, minute=2)
    page = staff_login(client, superuser).get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    # The window: 80 wins, 48 losses (p = 0.006); Wilson 95 % interval 53.9 % to 70.4 %.
    assert "Bilan des 28 derniers jours" in html
    assert "62,5 %" in html and "53,9 % à 70,4 %" in html
    assert "meilleur que la référence" in html
    # Per day: the second day has too few comparisons for a verdict.
    assert "pas encore assez de comparaisons (18 sur 100)" in html
    assert "Classement servi :" in html and "20260301T040200000000Z" in html
    assert "modèle 20260201T040000000000Z retiré" in html
    assert reverse("admin:recommend_onlinecomparison_add") not in html


def test_online_admin_is_read_only_and_staff_only(client, counted, city_editor):
    row = OnlineComparison.objects.first()
    staff_login(client, city_editor)
    assert client.get(URL).status_code == 403  # an editor of content, without the permission
    city_editor.user_permissions.add(Permission.objects.get(codename="view_onlinecomparison"))
    assert client.get(URL).status_code == 200
    change = reverse("admin:recommend_onlinecomparison_change", args=[row.pk])
    response = client.post(change, {"wins": 1000})
    assert response.status_code in (200, 403)
    assert OnlineComparison.objects.get(pk=row.pk).wins == row.wins
    assert client.get(reverse("admin:recommend_onlinecomparison_add")).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_online_admin_without_counters(client, superuser, model_dir):
    page = staff_login(client, superuser).get(URL).content.decode()
    assert "Aucune requête entrelacée comptée sur cette période." in page
