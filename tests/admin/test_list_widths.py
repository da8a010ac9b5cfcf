"""Issue 16, point 4: the works, events, notifications and approval-request lists fit a 1366 px
laptop screen.

Debian's Chromium (Playwright, as tests/admin/test_browser.py) opens each list, filled with
realistic long values, in a 1366 by 768 window: the page must not scroll sideways and every
column of the table must be inside the window. Screenshots are written to
``var/screenshots/`` (``LIST_SCREENSHOTS_DIR`` to choose another folder) for a human to look at.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core.models import Urgency
from apps.core.services import content_publish
from tests.admin.test_browser import OfflinePage, chromium  # noqa: F401 - the fixture
from tests.api_support import published_event, published_works
from tests.factories import AreaFactory, NewsFactory, VenueFactory, square

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1366, 768
LISTS = {
    "works": "/admin/works/works/",
    "events": "/admin/events/event/",
    "notifications": "/admin/notifications/notification/",
    "approvals": "/admin/core/approvalrequest/",
}


def _screenshots() -> Path:
    folder = Path(os.environ.get("LIST_SCREENSHOTS_DIR") or Path(settings.BASE_DIR) / "var")
    folder = folder / "screenshots" if "LIST_SCREENSHOTS_DIR" not in os.environ else folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def long_lists(city, mobility, city_writer):
    """A few items of each list with the long values real data has (titles, venues, areas);
    publishing with "Notifier" writes the notifications; a rédacteur's alerts wait for a
    validateur (the approval requests)."""
    areas = [
        AreaFactory(slug=f"zone-{i}", name=name, geometry=square(4.8357 + i * 0.001, 45.764, 0.05))
        for i, name in enumerate(["Croix-Rousse", "Presqu'île - Terreaux", "Saint-Just"])
    ]
    start = timezone.now() + timedelta(days=3)
    for i in range(4):
        published_works(
            organization=city,
            category=mobility,
            notify=True,
            title_fr=f"Réfection complète de la chaussée et des trottoirs de l'avenue Jean-Jaurès, tranche {i}",  # noqa: E501
        )
        published_event(
            organization=city,
            category=mobility,
            title_fr=f"Festival des cultures urbaines et du patrimoine de Saint-Georges {i}",
            venue=VenueFactory(name="Salle des fêtes municipale Édouard-Herriot, grande salle"),
            start_at=start,
            end_at=start + timedelta(hours=3),
        )
        alert = NewsFactory(
            organization=city,
            category=mobility,
            urgency=Urgency.ALERT,
            notify=True,
            title_fr=f"Fuite de gaz rue Garibaldi : périmètre de sécurité et déviation des bus {i}",
        )
        content_publish(item=alert, user=city_writer)
    return areas


def _fits(page) -> dict:
    return page.evaluate(
        """() => {
            const doc = document.documentElement;
            const table = document.querySelector('#result_list');
            const box = document.querySelector('#changelist .results');
            const right = Math.max(...[...table.querySelectorAll('th, td')]
                .map(cell => cell.getBoundingClientRect().right));
            return {scroll: doc.scrollWidth, window: window.innerWidth, right: right,
                    visible: box.getBoundingClientRect().right,
                    hidden: box.scrollWidth - box.clientWidth,
                    columns: table.querySelectorAll('thead th').length,
                    rows: table.querySelectorAll('tbody tr').length};
        }"""
    )


@pytest.mark.parametrize("name", list(LISTS))
def test_list_fits_a_1366_px_screen(chromium, live_server, superuser, long_lists, name):  # noqa: F811
    browser = OfflinePage(chromium, live_server.url)
    try:
        browser.context.pages[0].set_viewport_size({"width": WIDTH, "height": HEIGHT})
        browser.login(superuser.username)
        page = browser.page
        page.goto(LISTS[name])
        page.wait_for_selector("#result_list")
        page.screenshot(path=str(_screenshots() / f"list-{name}-{WIDTH}.png"), full_page=True)
        measured = _fits(page)

        assert measured["rows"] >= 4, measured
        assert measured["scroll"] <= WIDTH, f"the {name} list scrolls sideways: {measured}"
        # The table scrolls inside its box when too wide: each cell must be within the box.
        assert measured["hidden"] <= 0, f"the {name} list is cut off: {measured}"
        assert measured["right"] <= measured["visible"] <= WIDTH, measured
    finally:
        browser.close()
