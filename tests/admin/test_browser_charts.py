"""The statistics page's charts and the organisation dashboard in a real browser, offline.

Chromium through Playwright on the live test server (tests/admin/test_browser.py's
``OfflinePage``): the charts are SVG from the server, nothing is fetched from outside.
Screenshots go to ``test-artifacts/charts/`` (ignored by git): look at them when the charts
change.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)
from tests.notifications.test_admin_charts import pushed  # noqa: F401  (the fixture)
from tests.notifications.test_admin_dashboard import activity  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "charts"


def test_editor_sees_the_charts_and_the_dashboard(
    chromium,  # noqa: F811
    live_server,
    city_editor,
    pushed,  # noqa: F811
    activity,  # noqa: F811
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    notification = pushed[0]
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"/admin/notifications/notification/{notification.pk}/change/")
        charts = page.locator(".notification-charts")
        expect(charts).to_be_visible()
        for chart_id in ("chart-sends", "chart-opens", "chart-failures", "chart-reach"):
            expect(page.locator(f"#{chart_id} svg").first).to_be_visible()
        expect(page.locator("#chart-reach path.area")).to_have_count(2)
        expect(page.locator("#chart-reach path.area.masked")).to_have_count(1)
        charts.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "1-statistics.png", full_page=True)
        # the data behind a chart opens under it
        page.click("#chart-reach details summary")
        expect(page.locator("#chart-reach table")).to_contain_text("Le Moulin")

        page.goto("/admin/notifications/notification/")
        page.click("text=Tableau de bord de l'organisation")
        expect(page.locator("h2", has_text="Ville de Lyonnay")).to_be_visible()
        expect(page.locator("#id_weeks")).to_have_value("12")
        for chart_id in ("chart-published", "chart-pushes", "chart-reach", "chart-opens"):
            expect(page.locator(f"#{chart_id}")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "2-dashboard.png", full_page=True)
        assert not [url for url in editor.blocked if "tile.openstreetmap.org" not in url]
    finally:
        editor.close()
