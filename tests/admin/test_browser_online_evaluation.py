"""The online evaluation's staff page in a real browser: the window's verdict, its interval,
the counters per day and a rollback (screenshot in test-artifacts/online-evaluation/)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.recommend.models import OnlineComparison, RankerRollback
from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "online-evaluation"


def test_superuser_reads_the_online_evaluation(chromium, live_server, superuser, settings):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    settings.ONLINE_EVAL_MIN_COMPARISONS = 100
    today = timezone.localdate()
    for k, (wins, losses, ties) in enumerate(((41, 22, 7), (38, 25, 9), (12, 9, 2))):
        OnlineComparison.objects.create(
            day=today - timedelta(days=k + 1), ranker="20261205T041300000000Z",
            reference="nearest", wins=wins, losses=losses, ties=ties,
            impressions=3 * (wins + losses + ties), counted_at=timezone.now(),
        )  # fmt: skip
    OnlineComparison.objects.create(
        day=today - timedelta(days=5), ranker="20261203T041300000000Z", reference="nearest",
        wins=20, losses=95, ties=6, impressions=400, counted_at=timezone.now(),
    )  # fmt: skip
    RankerRollback.objects.create(
        at=timezone.now() - timedelta(days=4), version="20261203T041300000000Z",
        reference="nearest", restored="20261201T041300000000Z", wins=20, losses=95, ties=6,
        p_value=2e-13, reason="significantly worse online than nearest",
    )  # fmt: skip
    staff = OfflinePage(chromium, live_server.url)
    try:
        staff.login(superuser.username)
        page = staff.page
        page.set_viewport_size({"width": 1366, "height": 1000})
        page.goto("/admin/recommend/onlinecomparison/")
        summary = page.locator("#online-summary")
        expect(summary).to_contain_text("Bilan des 28 derniers jours")
        expect(summary).to_contain_text("meilleur que la référence")
        expect(summary).to_contain_text("moins bon que la référence")
        expect(summary).to_contain_text("modèle 20261203T041300000000Z retiré")
        expect(page.locator("#result_list tbody tr")).to_have_count(4)
        page.screenshot(path=ARTIFACTS / "1-online-evaluation.png", full_page=True)
        assert not [url for url in staff.blocked if "tile" not in url]
    finally:
        staff.close()
