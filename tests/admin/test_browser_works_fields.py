"""An editor sets a roadwork's restrictions, days and hours without typing JSON or "12345".

Chromium through Playwright on the live test server, offline. Screenshots of each step go to
``test-artifacts/works-fields/`` (ignored by git).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.works.models import Works
from tests.admin.test_browser import OfflinePage, _draw_line, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "works-fields"


def test_editor_sets_restrictions_days_and_hours_without_typing_json(
    chromium,  # noqa: F811
    live_server,
    city_editor,
    mobility,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    start = timezone.localtime() + timedelta(days=2)
    end = start + timedelta(days=20)
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.clock.install()
        page.goto("/admin/works/works/add/")
        _draw_line(page, "geometry", [(0.3, 0.5), (0.6, 0.5)])
        page.fill("#id_title_fr", "Reprise du pont de la Gare")
        page.select_option("#id_category", str(mobility.pk))
        page.fill("#id_start_at_0", start.strftime("%d/%m/%Y"))
        page.fill("#id_start_at_1", "07:00:00")
        page.fill("#id_end_at_0", end.strftime("%d/%m/%Y"))
        page.fill("#id_end_at_1", "18:00:00")

        rows = page.locator(".restriction-rows tbody tr")
        first = rows.nth(0)
        # A type without a measure: no value, no unit.
        first.locator("select[name$=-type]").select_option(label="Hauteur limitée")
        expect(first.locator("input[name$=-value]")).to_be_enabled()
        expect(first.locator("select[name$=-unit]")).to_have_value("centimeters")
        first.locator("input[name$=-value]").fill("350")
        second = rows.nth(1)
        second.locator("select[name$=-type]").select_option(label="Interdit aux poids lourds")
        expect(second.locator("input[name$=-value]")).to_be_disabled()
        page.click(".restriction-add")
        expect(rows).to_have_count(3)
        rows.nth(2).locator("select[name$=-type]").select_option(label="Tonnage limité")
        expect(rows.nth(2).locator("select[name$=-unit]")).to_have_value("kilograms")
        rows.nth(2).locator("input[name$=-value]").fill("3500")
        page.check("#id_impacts_road")
        page.check("#id_impacts_bus")
        page.locator(".restriction-rows").scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "1-restrictions.png")

        page.click("#periods-group .add-row a")
        period = page.locator("#periods-0")
        period.locator("input[name='periods-0-start_date']").fill(start.strftime("%d/%m/%Y"))
        period.locator("input[name='periods-0-end_date']").fill(end.strftime("%d/%m/%Y"))
        # A new period starts with every day ticked: the weekend is off.
        for day in ("lun.", "mar.", "mer.", "jeu.", "ven."):
            expect(period.get_by_label(day)).to_be_checked()
        period.get_by_label("sam.").uncheck()
        period.get_by_label("dim.").uncheck()
        period.locator("input[name='periods-0-daily_start_time']").fill("21:00")
        period.locator("input[name='periods-0-daily_end_time']").fill("05:00")
        period.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "2-period.png")

        page.click("input[name=_save]")
        page.wait_for_load_state()
        page.screenshot(path=ARTIFACTS / "3-saved.png")
        assert page.locator(".errorlist").all_inner_texts() == []
        expect(page.locator("ul.messagelist li.success")).to_be_visible()
    finally:
        editor.close()

    works = Works.objects.get(title_fr="Reprise du pont de la Gare")
    assert works.restrictions == [
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "no-trucks"},
        {"type": "reduced-weight", "value": 3500, "unit": "kilograms"},
    ]
    assert (works.impacts_road, works.impacts_bus, works.impacts_parking) == (True, True, False)
    (period,) = works.periods.all()
    assert period.weekdays == "12345"
    assert (period.daily_start_time.isoformat(), period.daily_end_time.isoformat()) == (
        "21:00:00",
        "05:00:00",
    )
    assert period.is_overnight


def test_a_wrong_restriction_is_named_in_french(
    chromium,  # noqa: F811
    live_server,
    city_editor,
    mobility,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    start = timezone.localtime() + timedelta(days=2)
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.goto("/admin/works/works/add/")
        page.fill("#id_title_fr", "Chantier à corriger")
        page.select_option("#id_category", str(mobility.pk))
        page.fill("#id_start_at_0", start.strftime("%d/%m/%Y"))
        page.fill("#id_start_at_1", "07:00:00")
        page.fill("#id_end_at_0", start.strftime("%d/%m/%Y"))
        page.fill("#id_end_at_1", "18:00:00")
        row = page.locator(".restriction-rows tbody tr").nth(0)
        row.locator("select[name$=-type]").select_option(label="Largeur limitée")
        row.locator("input[name$=-value]").fill("deux mètres")
        page.click("input[name=_save]")
        error = page.locator(".field-restrictions .errorlist")
        expect(error).to_have_text("Restriction 1, valeur : un nombre, ex. 350.")
        error.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "4-error.png")
        # The rows come back as typed, nothing is lost.
        expect(row.locator("input[name$=-value]")).to_have_value("deux mètres")
    finally:
        editor.close()
    assert not Works.objects.exists()
