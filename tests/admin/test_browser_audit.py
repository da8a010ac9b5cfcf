"""An editor changes a title, opens « Historique » and sees who changed what; then opens the
CADA export page. Chromium on the live server, offline (tests/admin/test_browser.py).
Screenshots go to ``test-artifacts/audit-trail/`` (ignored by git)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)
from tests.factories import NewsFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "audit-trail"


def test_editor_sees_the_history_of_an_item_and_the_export_page(
    chromium,  # noqa: F811
    live_server,
    city_editor,
    city,
    mobility,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    city_editor.first_name, city_editor.last_name = "Camille", "Durand"
    city_editor.save()
    news = NewsFactory(organization=city, category=mobility, title_fr="Fermeture du pont")
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto(f"/admin/news/news/{news.pk}/change/")
        page.fill("#id_title_fr", "Fermeture du pont Morand")
        page.click("input[name=_continue]")
        expect(page.locator("#id_title_fr")).to_have_value("Fermeture du pont Morand")

        page.click("a.historylink")
        table = page.locator("#change-history")
        expect(table).to_contain_text("Camille Durand")
        expect(table).to_contain_text("Fermeture du pont → Fermeture du pont Morand")
        expect(table).to_contain_text("création")
        page.screenshot(path=ARTIFACTS / "1-history.png", full_page=False)

        page.goto("/admin/core/organization/")
        page.click("text=Exporter l'historique (CADA)")
        expect(page.locator("h1")).to_contain_text("Exporter l'historique")
        page.screenshot(path=ARTIFACTS / "2-export-form.png", full_page=False)
    finally:
        editor.close()
