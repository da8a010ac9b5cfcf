"""An editor creates a weekly event with the recurrence picker, sees its dates before saving
and skips one.

Chromium through Playwright on the live test server, offline (tests/admin/test_browser.py's
``OfflinePage``). Screenshots of each step go to ``test-artifacts/recurrence-picker/`` (ignored
by git): look at them when the picker changes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.events.models import Event, EventOccurrence
from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "recurrence-picker"


def next_saturday():
    today = timezone.localdate()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


def test_editor_creates_a_weekly_event_with_the_picker_and_sees_its_dates(
    chromium,  # noqa: F811
    live_server,
    city_editor,
    culture,
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    first = next_saturday()
    third = first + timedelta(weeks=2)
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.set_viewport_size({"width": 1366, "height": 900})
        page.goto("/admin/events/event/add/")
        picker = page.locator(".recurrence-picker")
        expect(picker).to_be_visible()
        # No RRULE to type: the raw box is folded away.
        expect(page.locator("#id_rrule")).to_be_hidden()

        page.fill("#id_title_fr", "Marché du samedi")
        page.select_option("#id_category", str(culture.pk))
        page.fill("#id_start_at_0", first.strftime("%d/%m/%Y"))
        page.fill("#id_start_at_1", "09:00:00")
        page.fill("#id_end_at_0", first.strftime("%d/%m/%Y"))
        page.fill("#id_end_at_1", "13:00:00")
        expect(picker.locator(".rp-status")).to_have_text("Pas de récurrence : une seule date.")
        picker.scroll_into_view_if_needed()
        page.screenshot(path=ARTIFACTS / "1-single-date.png", full_page=False)

        picker.locator(".rp-freq").select_option("WEEKLY")
        expect(picker.locator(".rp-weekly")).to_be_visible()
        expect(picker.locator(".rp-monthly")).to_be_hidden()
        picker.get_by_label("samedi").check()
        picker.locator(".rp-count").fill("8")
        picker.locator(".rp-count").dispatch_event("change")

        dates = picker.locator(".rp-dates li")
        expect(dates).to_have_count(8)
        expect(picker.locator(".rp-status")).to_have_text("8 dates, dont les suivantes :")
        expect(dates.first.locator(".rp-label")).to_have_text(
            f"samedi {first.day} " + _month_year(first) + ", 09:00"
        )
        last = first + timedelta(weeks=7)
        expect(dates.last.locator(".rp-label")).to_have_text(
            f"samedi {last.day} " + _month_year(last) + ", 09:00"
        )
        expect(page.locator("#id_rrule")).to_have_value("FREQ=WEEKLY;BYDAY=SA;COUNT=8")
        page.screenshot(path=ARTIFACTS / "2-weekly-preview.png", full_page=False)

        # A bad custom rule is explained in French, before saving.
        picker.locator(".rp-custom summary").click()
        page.fill("#id_rrule", "FREQ=MONTHLY;BYMONTHDAY=30;BYMONTH=2")
        expect(picker.locator(".rp-status")).to_have_text(
            "Règle de récurrence impossible : aucun jour ne correspond (ex. 30 février)."
        )
        page.screenshot(path=ARTIFACTS / "3-bad-rule.png", full_page=False)
        # Back to the picker: it writes its rule again.
        picker.get_by_label("samedi").uncheck()
        picker.get_by_label("samedi").check()
        expect(page.locator("#id_rrule")).to_have_value("FREQ=WEEKLY;BYDAY=SA;COUNT=8")
        expect(dates).to_have_count(8)

        # Skip the third Saturday from the preview (a holiday): struck out, not counted.
        dates.nth(2).get_by_role("button", name="Sauter").click()
        expect(picker.locator(".rp-status")).to_have_text("7 dates, dont les suivantes :")
        expect(dates.nth(2)).to_have_class("rp-skipped")
        expect(page.locator("#id_excluded_dates")).to_have_value(third.strftime("%d/%m/%Y"))
        expect(dates.first.get_by_role("button")).to_have_count(0)  # the start stays
        page.screenshot(path=ARTIFACTS / "4-skipped-date.png", full_page=False)

        page.click("input[name=_save]")
        expect(page.locator("ul.messagelist li.success")).to_be_visible()
        page.screenshot(path=ARTIFACTS / "5-saved.png", full_page=False)
    finally:
        editor.close()

    event = Event.objects.get(title_fr="Marché du samedi")
    assert event.rrule == "FREQ=WEEKLY;BYDAY=SA;COUNT=8"
    starts = sorted(
        timezone.localtime(o.start_at).date() for o in EventOccurrence.objects.filter(event=event)
    )
    assert event.excluded_dates == [third.isoformat()]
    assert starts == [first + timedelta(weeks=n) for n in range(8) if n != 2]
    assert not editor.blocked or all("tile" in url for url in editor.blocked)


MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


def _month_year(day) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"
