"""Issue 16's first hour as an editor, walked in Chromium against the demo `make run` serves.

On the SpatiaLite demo city, with the logins `make run` prints: the demo editor creates a
weekly event with the recurrence picker and sees its dates before saving; draws a roadwork on
the map without tiles after finding its street with the search box, and sets its restrictions,
days and hours without typing JSON; a rédacteur's alert waits for a validateur's approval before
any push leaves; the works, events and notifications lists fit a 1366 px screen. What was saved
is read back from the demo's public API (and its database, for what the API must not show).

Every request leaving the demo server is aborted. Screenshots of each step go to
``test-artifacts/first-hour/`` (ignored by git): look at them when the admin changes.
"""

from __future__ import annotations

import re
import sqlite3
import time
from contextlib import closing
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import expect

from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401  (the fixture)
from tests.devserver.conftest import DemoServer
from tests.devserver.demo_admin import admin_sign_in, demo_editor, demo_login

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "first-hour"
PARIS = ZoneInfo("Europe/Paris")  # the demo's TIME_ZONE
WIDTH, HEIGHT = 1366, 768
MAP = "#id_geometry-map"
#: The roles the roles branch gave the demo (apps/demo/data/city.json, README).
WRITER, VALIDATOR = "lucas.petit", "nadia.roux"
ALERT_TITLE = "Fuite de gaz rue Garibaldi : périmètre de sécurité"
EVENT_TITLE = "Atelier vélo du mardi et du jeudi"
WORKS_TITLE = "Reprise du pont de la rue de la République"


def _only_tiles(blocked: list[str]) -> bool:
    """Nothing but background map tiles was asked of the internet (and it was refused)."""
    return all(url.startswith("https://tile.openstreetmap.org/") for url in blocked)


def _shot(page, name: str, **options) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", **options)


def _next_weekday(weekday: int) -> date:
    """The next ``weekday`` (Monday 0) after today in the demo's time zone, at least 2 days on."""
    today = datetime.now(PARIS).date() + timedelta(days=2)
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _item_id(page, path: str) -> int:
    """The id of the item whose change page ``page`` shows, after a save."""
    page.wait_for_url(re.compile(rf"{path}\d+/change/"))
    match = re.search(rf"{path}(\d+)/change/", page.url)
    assert match, page.url
    return int(match[1])


def _api(server: DemoServer, path: str, **params) -> httpx.Response:
    return httpx.get(f"{server.url()}/api/v1/{path}", params=params, timeout=30)


def _demo_rows(server: DemoServer, sql: str, *args) -> list[tuple]:
    """Rows of the demo's own database (SpatiaLite, read-only: the server keeps writing)."""
    uri = f"file:{server.var_dir / 'quartier.sqlite3'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        return db.execute(sql, args).fetchall()


def _register_items(server: DemoServer, since: datetime) -> list[dict]:
    """The items of the public transparency register's pushes first sent since ``since``."""
    response = _api(server, "transparency/notifications/", since=since.isoformat(), page_size=50)
    assert response.status_code == 200, response.text
    return [entry["item"] for entry in response.json()["results"]]


def _fits(page) -> dict:
    """How wide the page and the list table are, against the window and the table's box."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('#result_list');
            const box = document.querySelector('#changelist .results');
            const right = Math.max(...[...table.querySelectorAll('th, td')]
                .map(cell => cell.getBoundingClientRect().right));
            return {scroll: document.scrollingElement.scrollWidth, window: window.innerWidth,
                    right: right, box: box.getBoundingClientRect().right,
                    hidden: box.scrollWidth - box.clientWidth,
                    rows: table.querySelectorAll('tbody tr').length};
        }"""
    )


def _create_weekly_event(page, server: DemoServer) -> None:
    """1. A weekly event with the picker: Tuesdays and Thursdays, 6 times, dates seen first."""
    tuesday = _next_weekday(1)
    page.goto("/admin/events/event/add/")
    picker = page.locator(".recurrence-picker")
    expect(picker).to_be_visible()
    expect(page.locator("#id_rrule")).to_be_hidden()  # no RRULE to type
    page.fill("#id_title_fr", EVENT_TITLE)
    page.fill("#id_summary_fr", "Réparer son vélo avec les bénévoles de l'atelier.")
    page.select_option("#id_category", label="Sport")
    page.fill("#id_start_at_0", tuesday.strftime("%d/%m/%Y"))
    page.fill("#id_start_at_1", "18:00:00")
    page.fill("#id_end_at_0", tuesday.strftime("%d/%m/%Y"))
    page.fill("#id_end_at_1", "20:00:00")
    expect(picker.locator(".rp-status")).to_have_text("Pas de récurrence : une seule date.")

    picker.locator(".rp-freq").select_option("WEEKLY")
    picker.get_by_label("mardi").check()
    picker.get_by_label("jeudi").check()
    picker.locator(".rp-count").fill("6")
    picker.locator(".rp-count").dispatch_event("change")
    expected = [tuesday + timedelta(days=offset) for offset in (0, 2, 7, 9, 14, 16)]
    dates = picker.locator(".rp-dates li .rp-label")
    expect(picker.locator(".rp-status")).to_have_text("6 dates, dont les suivantes :")
    expect(dates).to_have_count(6)
    for label, day in zip(dates.all(), expected, strict=True):
        weekday = "mardi" if day.weekday() == 1 else "jeudi"
        expect(label).to_have_text(re.compile(rf"^{weekday} {day.day} \S+ {day.year}, 18:00$"))
    expect(page.locator("#id_rrule")).to_have_value("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6")
    picker.scroll_into_view_if_needed()
    _shot(page, "1-event-dates-before-saving")

    page.click("button[name=_lifecycle][value=publish]")
    event_id = _item_id(page, "/admin/events/event/")
    expect(page.locator("ul.messagelist li.success").first).to_be_visible()
    _shot(page, "1-event-published")

    detail = _api(server, f"events/{event_id}/")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["title"] == EVENT_TITLE
    assert body["rrule"] == "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6"
    starts = [datetime.fromisoformat(o["start_at"]) for o in body["occurrences"]]
    assert starts == [datetime(d.year, d.month, d.day, 18, tzinfo=PARIS) for d in expected]
    ends = [datetime.fromisoformat(o["end_at"]) for o in body["occurrences"]]
    assert ends == [start + timedelta(hours=2) for start in starts]


def _draw_roadwork(page, editor: OfflinePage) -> None:
    """3. The districts on a map without tiles; the search box finds the street; a line on it."""
    page.goto("/admin/works/works/add/")
    map_box = page.locator(MAP)
    expect(map_box).to_have_attribute("data-areas-drawn", "10")  # the commune and 9 districts
    expect(page.locator(f"{MAP} .leaflet-quartierAreas-pane path")).to_have_count(10)
    expect(page.locator(f"{MAP} .quartier-map-label-area")).to_have_count(9)
    assert page.locator(f"{MAP} img.leaflet-tile-loaded").count() == 0
    map_box.scroll_into_view_if_needed()
    _shot(page, "2-map-districts-without-tiles")

    page.locator(f"{MAP} .quartier-map-search input").fill("rue de la Répu")
    result = page.locator(f"{MAP} .quartier-map-results button", has_text="rue de la République")
    expect(result.first).to_be_visible()
    _shot(page, "2-map-search-results")
    result.first.click()
    expect(map_box).to_have_attribute("data-found", re.compile("^rue de la République"))
    _shot(page, "2-map-street-found")

    # Along the street found, now through the map's centre: north by north-east, about 6 m east
    # per 70 m north (apps/demo/data/city.json), 80 px at the zoom of a street found.
    page.click(f"{MAP} .leaflet-draw-draw-polyline")
    box = map_box.bounding_box()
    assert box is not None
    for dx, dy in ((7, -80), (-7, 80)):
        page.mouse.click(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2 + dy)
        page.wait_for_timeout(120)  # Leaflet.draw ignores a click within 50 ms of the last
    page.click(f"{MAP} .leaflet-draw-actions a:text-is('Terminer')")
    expect(page.locator("#id_geometry")).to_have_value(re.compile('"LineString"'))
    reach = page.locator("#id_geometry-reach .quartier-map-reach-district")
    expect(reach).to_contain_text("Centre-Ville")
    # The edit and delete buttons, enabled now, show their icons at once (no sliding sprite).
    edit = page.locator(f"{MAP} .leaflet-draw-edit-edit")
    assert edit.evaluate("a => getComputedStyle(a).transitionDuration") == "0s"
    _shot(page, "2-map-line-drawn")
    assert _only_tiles(editor.blocked), editor.blocked


def _set_restrictions(page, server: DemoServer, start: date, end: date) -> None:
    """2. Restrictions, days and hours with rows, checkboxes and time pickers: no JSON typed."""
    page.fill("#id_title_fr", WORKS_TITLE)
    page.fill("#id_summary_fr", "Hauteur et tonnage limités sous le pont, travaux de nuit.")
    page.select_option("#id_category", label="Travaux et voirie")
    page.fill("#id_start_at_0", start.strftime("%d/%m/%Y"))
    page.fill("#id_start_at_1", "07:00:00")
    page.fill("#id_end_at_0", end.strftime("%d/%m/%Y"))
    page.fill("#id_end_at_1", "18:00:00")

    rows = page.locator(".restriction-rows tbody tr")
    rows.nth(0).locator("select[name$=-type]").select_option(label="Hauteur limitée")
    expect(rows.nth(0).locator("select[name$=-unit]")).to_have_value("centimeters")
    rows.nth(0).locator("input[name$=-value]").fill("350")
    rows.nth(1).locator("select[name$=-type]").select_option(label="Interdit aux poids lourds")
    expect(rows.nth(1).locator("input[name$=-value]")).to_be_disabled()  # a ban has no measure
    page.click(".restriction-add")
    expect(rows).to_have_count(3)
    rows.nth(2).locator("select[name$=-type]").select_option(label="Tonnage limité")
    expect(rows.nth(2).locator("select[name$=-unit]")).to_have_value("kilograms")
    rows.nth(2).locator("input[name$=-value]").fill("3500")
    page.check("#id_impacts_road")
    page.check("#id_impacts_bus")
    page.locator(".restriction-rows").scroll_into_view_if_needed()
    _shot(page, "3-works-restrictions")

    page.click("#periods-group .add-row a")
    period = page.locator("#periods-0")
    period.locator("input[name='periods-0-start_date']").fill(start.strftime("%d/%m/%Y"))
    period.locator("input[name='periods-0-end_date']").fill(end.strftime("%d/%m/%Y"))
    for day in ("lun.", "mar.", "mer.", "jeu.", "ven."):
        expect(period.get_by_label(day)).to_be_checked()
    period.get_by_label("sam.").uncheck()
    period.get_by_label("dim.").uncheck()
    period.locator("input[name='periods-0-daily_start_time']").fill("21:00")
    period.locator("input[name='periods-0-daily_end_time']").fill("05:00")
    period.scroll_into_view_if_needed()
    _shot(page, "3-works-days-and-hours")

    page.click("button[name=_lifecycle][value=publish]")
    works_id = _item_id(page, "/admin/works/works/")
    assert page.locator(".errorlist").all_inner_texts() == []
    expect(page.locator("ul.messagelist li.success").first).to_be_visible()
    _shot(page, "3-works-published")
    # The rows come back as they were set, on the published roadwork.
    saved = page.locator(".restriction-rows tbody tr")
    expect(saved.nth(2).locator("input[name$=-value]")).to_have_value("3500")
    saved.first.scroll_into_view_if_needed()
    _shot(page, "3-works-published-restrictions")

    detail = _api(server, f"works/{works_id}/")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["title"] == WORKS_TITLE
    assert body["restrictions"] == [
        {"type": "reduced-height", "value": 350, "unit": "centimeters"},
        {"type": "no-trucks"},
        {"type": "reduced-weight", "value": 3500, "unit": "kilograms"},
    ]
    assert sorted(body["impacts"]) == ["bus", "road"]
    assert body["periods"] == [
        {
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "weekdays": "12345",
            "daily_start_time": "21:00:00",
            "daily_end_time": "05:00:00",
        }
    ]
    assert body["geometry"]["type"] == "LineString"
    assert "Centre-Ville" in [area["name"] for area in body["areas"]]


def _assert_fits(page, name: str) -> None:
    """The list on ``page`` neither scrolls sideways nor hides a column at 1366 px."""
    measured = _fits(page)
    assert measured["rows"] >= 1, (name, measured)
    assert measured["window"] == WIDTH, measured
    assert measured["scroll"] <= WIDTH, f"the {name} list scrolls sideways: {measured}"
    assert measured["hidden"] <= 0, f"the {name} list is cut off: {measured}"
    assert measured["right"] <= measured["box"] <= WIDTH, (name, measured)


def _lists_fit(page) -> None:
    """5. The works, events and notifications lists at 1366 x 768: no sideways scrolling."""
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    for name, path in (
        ("works", "/admin/works/works/"),
        ("events", "/admin/events/event/"),
        ("notifications", "/admin/notifications/notification/"),
    ):
        page.goto(path)
        page.wait_for_selector("#result_list")
        _shot(page, f"5-list-{name}-{WIDTH}", full_page=True)
        _assert_fits(page, name)
        assert page.locator("#result_list tbody tr").count() >= 3, name


def test_the_first_hour_of_an_editor_on_the_demo(chromium, demo_server):  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = demo_server.log.read_text()
    editor = OfflinePage(chromium, demo_server.url())
    try:
        page = editor.page
        page.on("dialog", lambda dialog: dialog.accept())  # "publish now?" confirmations
        page.set_viewport_size({"width": WIDTH, "height": 900})
        admin_sign_in(page, demo_editor(log))
        _create_weekly_event(page, demo_server)
        _draw_roadwork(page, editor)
        start = datetime.now(PARIS).date() + timedelta(days=3)
        _set_restrictions(page, demo_server, start, start + timedelta(days=20))

        _two_person_rule(chromium, demo_server, log)

        _lists_fit(page)
        # The alert the validateur approved is among the editor's organization's pushes.
        page.goto("/admin/notifications/notification/")
        expect(page.locator("#result_list tbody tr", has_text=ALERT_TITLE)).to_contain_text(
            "Alerte"
        )
        assert _only_tiles(editor.blocked), editor.blocked
    finally:
        editor.close()


def _two_person_rule(chromium, server: DemoServer, log: str) -> None:  # noqa: F811
    """4. The rédacteur's alert stays a draft, with no push, until the validateur approves."""
    asked_at = datetime.now(PARIS) - timedelta(seconds=1)
    writer = OfflinePage(chromium, server.url())
    try:
        page = writer.page
        page.set_viewport_size({"width": WIDTH, "height": 900})
        writer_login = demo_login(log, WRITER)
        assert writer_login.who == "writer (rédacteur) of Ville de Lyonnay"
        admin_sign_in(page, writer_login)
        page.goto("/admin/news/news/add/")
        page.fill("#id_title_fr", ALERT_TITLE)
        page.fill("#id_summary_fr", "Évacuez le secteur, suivez les consignes des pompiers.")
        page.select_option("#id_category", label="Mobilité")
        page.select_option("#id_urgency", label="Alerte")
        page.check("#id_notify")
        ask = page.locator("button[name=_lifecycle][value=publish]")
        expect(ask).to_have_text("Enregistrer et demander la publication")
        expect(page.locator(MAP)).to_have_attribute("data-areas-drawn", "10")
        _shot(page, "4-writer-alert-written", full_page=True)
        ask.click()
        news_id = _item_id(page, "/admin/news/news/")
        expect(page.locator("ul.messagelist li.warning")).to_contain_text(
            "demande de validation envoyée aux validateurs"
        )
        pending = page.locator("#approval-pending")
        expect(pending).to_contain_text("En attente de validation")
        expect(pending).to_contain_text("notification d'alerte")
        expect(page.locator("#approval-approve")).to_have_count(0)  # not the writer's call
        expect(page.locator(MAP)).to_have_attribute("data-areas-drawn", "10")
        _shot(page, "4-writer-request-sent", full_page=True)
        assert _only_tiles(writer.blocked), writer.blocked
    finally:
        writer.close()

    # A draft: not public, no notification, nothing in the register or the outbox.
    assert _api(server, f"news/{news_id}/").status_code == 404
    assert {"type": "news", "id": news_id} not in _register_items(server, asked_at)
    notifications = (
        "SELECT id FROM notifications_notification WHERE item_type = 'news' AND item_id = ?"
    )
    assert _demo_rows(server, notifications, news_id) == []
    assert _demo_rows(server, "SELECT status FROM news_news WHERE id = ?", news_id) == [("draft",)]
    approval = "SELECT state FROM core_approvalrequest WHERE item_type = 'news' AND item_id = ?"
    assert _demo_rows(server, approval, news_id) == [("pending",)]

    validator = OfflinePage(chromium, server.url())
    try:
        page = validator.page
        page.on("dialog", lambda dialog: dialog.accept())  # "approve and publish?"
        page.set_viewport_size({"width": WIDTH, "height": 900})
        validator_login = demo_login(log, VALIDATOR)
        assert validator_login.who == "validator of Ville de Lyonnay"
        admin_sign_in(page, validator_login)
        page.goto("/admin/core/approvalrequest/")
        row = page.locator("#result_list tbody tr", has_text=ALERT_TITLE)
        expect(row).to_contain_text("En attente de validation")
        _shot(page, "4-validator-sees-the-request")
        _assert_fits(page, "approval requests")
        row.locator(f"a:text-is('{ALERT_TITLE}')").click()
        expect(page.locator("#approval-pending")).to_contain_text("Demandée par Lucas Petit")
        _shot(page, "4-validator-item-pending")
        page.click("#approval-approve")
        expect(page.locator("ul.messagelist li.success")).to_contain_text(
            f"Demande approuvée : « {ALERT_TITLE} » est publié."
        )
        expect(page.locator("#approval-history")).to_contain_text("Nadia Roux")
        expect(page.locator(MAP)).to_have_attribute("data-areas-drawn", "10")
        _shot(page, "4-validator-approved", full_page=True)
        assert _only_tiles(validator.blocked), validator.blocked
    finally:
        validator.close()

    detail = _api(server, f"news/{news_id}/")
    assert detail.status_code == 200, detail.text
    assert (detail.json()["title"], detail.json()["urgency"]) == (ALERT_TITLE, "alert")
    assert len(_demo_rows(server, notifications, news_id)) == 1
    assert _demo_rows(server, approval, news_id) == [("approved",)]
    # The push left (the demo's log backend): the register lists it, a few seconds at most.
    deadline = time.monotonic() + 20
    while {"type": "news", "id": news_id} not in _register_items(server, asked_at):
        assert time.monotonic() < deadline, _register_items(server, asked_at)
        time.sleep(0.5)
