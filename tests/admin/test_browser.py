"""The admin in a real browser (Debian's Chromium through Playwright), with no internet.

Every request that leaves the live test server is aborted, so the map widget must work from
our own static files; only background tiles are expected to be blocked.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.oath import totp
from playwright.sync_api import expect, sync_playwright

from apps.core.models import Status
from apps.works.models import Works
from tests.staff import PASSWORD, totp_code, totp_device

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    # Playwright's sync API keeps an asyncio loop in this thread, so Django would refuse the
    # test's own (plain, synchronous) ORM calls as "async-unsafe": allow them, in this module only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


class OfflinePage:
    """A French-speaking browser page that may only reach the live server."""

    def __init__(self, browser, base_url: str) -> None:
        self.context = browser.new_context(locale="fr-FR", base_url=base_url)
        self.context.set_default_timeout(15_000)
        self.blocked: list[str] = []
        self.page = self.context.new_page()
        host = urlparse(base_url).hostname
        self.context.route("**/*", self._route(host))

    def _route(self, host: str | None):
        def handle(route) -> None:
            if urlparse(route.request.url).hostname == host:
                route.continue_()
            else:
                self.blocked.append(route.request.url)
                route.abort()

        return handle

    def login(self, username: str) -> None:
        """Password, then the code of the user's authenticator app (editors must have one)."""
        device = totp_device(get_user_model().objects.get(username=username))
        self.page.goto("/admin/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", PASSWORD)
        self.page.click("input[type=submit]")
        self.page.wait_for_url("**/admin/mfa/verify/**")
        self.page.fill("#id_otp_token", totp_code(device))
        self.page.click("#mfa-form input[type=submit]")
        self.page.wait_for_selector("#user-tools")

    def close(self) -> None:
        self.context.close()


def _draw_line(page, field: str, points: list[tuple[float, float]]) -> None:
    """Draw a line on the map of ``field``: click its vertices, then "Terminer".

    Leaflet.draw ignores a click that follows the previous one within 50 ms (a double-click
    guard on a timer). The page runs on Playwright's fake clock, so instead of waiting we
    advance the clock past that guard after each click.
    """
    map_selector = f"#id_{field}-map"
    page.click(f"{map_selector} .leaflet-draw-draw-polyline")
    box = page.locator(map_selector).bounding_box()
    vertices = page.locator(f"{map_selector} .leaflet-editing-icon")
    for index, (fx, fy) in enumerate(points, start=1):
        page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.clock.run_for(100)
        expect(vertices).to_have_count(index)
    page.click(f"{map_selector} .leaflet-draw-actions a:text-is('Terminer')")
    expect(page.locator(f"#id_{field}")).to_have_value(re.compile('"LineString"'))


def test_superuser_without_a_device_enrols_from_the_qr_page_before_anything_else(
    chromium, live_server, superuser
):
    browser = OfflinePage(chromium, live_server.url)
    try:
        page = browser.page
        page.goto("/admin/works/works/")
        page.fill("#id_username", superuser.username)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url("**/admin/mfa/enrol/**")
        expect(page.locator("#mfa-qr svg")).to_be_visible()
        key = page.inner_text("#mfa-key").replace(" ", "")
        # What the phone's app computes from the key it was given.
        code = f"{totp(base64.b32decode(key)):06d}"

        page.fill("#id_otp_token", code)
        page.click("#mfa-form input[type=submit]")

        page.wait_for_selector("#changelist")  # then on to the page first asked for
        assert urlparse(page.url).path == "/admin/works/works/"
        assert not browser.blocked
    finally:
        browser.close()


def test_editor_draws_publishes_and_other_organization_cannot_see(
    chromium, live_server, city_editor, metropole_editor, mobility
):
    start = timezone.localtime() + timedelta(days=1)
    end = start + timedelta(days=14)
    editor = OfflinePage(chromium, live_server.url)
    try:
        editor.login(city_editor.username)
        page = editor.page
        page.clock.install()
        page.goto("/admin/works/works/add/")
        _draw_line(page, "geometry", [(0.3, 0.5), (0.5, 0.45), (0.7, 0.55)])
        page.fill("#id_title_fr", "Réfection de la rue Victor-Hugo")
        page.fill("#id_summary_fr", "Chaussée fermée entre la place et le pont.")
        page.select_option("#id_category", str(mobility.pk))
        page.fill("#id_start_at_0", start.strftime("%d/%m/%Y"))
        page.fill("#id_start_at_1", "08:00:00")
        page.fill("#id_end_at_0", end.strftime("%d/%m/%Y"))
        page.fill("#id_end_at_1", "18:00:00")
        page.click("input[name=_save]")

        # Back on the list: the new roadwork is a draft; publish it with the list action.
        row = page.locator("#result_list tbody tr", has_text="Réfection de la rue Victor-Hugo")
        expect(row).to_contain_text("Brouillon")
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", "publish_selected")
        page.click("#changelist-form button[name=index]")
        expect(page.locator("ul.messagelist li.success")).to_contain_text("1 contenu publié.")
        expect(row).to_contain_text("Publié")

        works = Works.objects.get(title_fr="Réfection de la rue Victor-Hugo")
        assert works.status == Status.PUBLISHED
        assert works.organization_id == city_editor.memberships.get().organization_id
        assert works.geometry.geom_type == "LineString"
        assert len(works.geometry.coords) == 3
        # Nothing but map tiles was fetched from outside.
        assert editor.blocked, "the map should at least try to load its tiles"
        assert all("tile.openstreetmap.org" in url for url in editor.blocked), editor.blocked
    finally:
        editor.close()

    other = OfflinePage(chromium, live_server.url)
    try:
        other.login(metropole_editor.username)
        page = other.page
        page.goto("/admin/works/works/")
        page.wait_for_selector("#changelist")
        assert "Réfection de la rue Victor-Hugo" not in page.inner_text("#changelist")
        response = page.goto(f"/admin/works/works/{works.pk}/change/")
        assert response is not None and response.status == 404
    finally:
        other.close()
