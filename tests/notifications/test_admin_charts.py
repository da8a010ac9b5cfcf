"""The charts of a notification's statistics page (issue 16, item 6): the series behind each
chart, the same masking as the table (a masked bar is drawn masked), and a fixed number of
queries.

A known population: Le Moulin (west), 14 devices; Bellevue (east), 3; 6 far away. The push
went out in four waves after its commit: 8 devices at once, 6 after 40 s (Le Moulin), the 3
of Bellevue after 70 s, the 6 far devices after 100 s; 5 more devices had a dead token.
Consenting residents opened it from the push: 7 after ten minutes, 6 two hours later; the
counter (everyone) says 23.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from apps.core.admin.charts import COLUMNS_HEIGHT, nice_ceiling
from apps.core.disclosure import MASK, Cell, Relation, disclose
from apps.core.item_types import ItemType
from apps.notifications.admin.charts import charts_cells, duration_text
from apps.notifications.admin.notifications import statistics_shown
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification, Reason
from apps.notifications.selectors import notification_stats
from apps.notifications.statistics import (
    map_areas,
    opens_over_time,
    reach_by_area,
    sends_over_time,
    step_for,
)
from apps.recommend.codes import Action, Context
from apps.recommend.models import Interaction
from tests.disclosure_support import shown_for
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, WorksFactory, square
from tests.notifications.helpers import FAR, phone

pytestmark = pytest.mark.django_db

MOULIN_AT = (CENTRE_LON - 0.01, CENTRE_LAT)
BELLEVUE_AT = (CENTRE_LON + 0.01, CENTRE_LAT)
T0 = datetime(2026, 3, 10, 9, 0, 0, tzinfo=UTC)


def change_url(notification: Notification) -> str:
    return reverse("admin:notifications_notification_change", args=[notification.pk])


def number(text: str) -> int | None:
    text = html_lib.unescape(text).strip()
    return None if text == str(MASK) else int(re.sub(r"\s", "", text))


def chart_rows(page: str, chart_id: str) -> list[tuple[str, str]]:
    """The data table of one chart: ``(label, value as shown)``."""
    figure = re.search(rf'<figure [^>]*id="{chart_id}">(.*?)</figure>', page, re.S).group(1)
    rows = re.findall(
        r'<tr class="chart-row"><th scope="row">(.*?)</th><td class="chart-value">(.*?)</td>',
        figure,
    )
    return [(html_lib.unescape(label), html_lib.unescape(value)) for label, value in rows]


def chart_bars(page: str, chart_id: str) -> list[tuple[bool, float, str]]:
    """The bars of one chart as drawn: ``(masked, height, title)``."""
    figure = re.search(rf'<figure [^>]*id="{chart_id}">(.*?)</figure>', page, re.S).group(1)
    bars = re.findall(
        r'<rect class="bar( masked)?" x="[^"]*" y="[^"]*" width="([^"]*)" height="([^"]*)"'
        r"[^>]*><title>(.*?)</title>",
        figure,
    )
    return [(bool(m), float(h), html_lib.unescape(t)) for m, _w, h, t in bars]


@pytest.fixture
def pushed(city, mobility):
    moulin = AreaFactory(slug="moulin", name="Le Moulin", geometry=square(*MOULIN_AT, 0.004))
    bellevue = AreaFactory(slug="bellevue", name="Bellevue", geometry=square(*BELLEVUE_AT, 0.004))
    devices = {
        "now": [phone(at=MOULIN_AT) for _ in range(8)],
        "40s": [phone(at=MOULIN_AT) for _ in range(6)],
        "70s": [phone(at=BELLEVUE_AT) for _ in range(3)],
        "100s": [phone(at=FAR) for _ in range(6)],
        "dead": [phone(at=MOULIN_AT) for _ in range(5)],
    }
    works = WorksFactory(organization=city, category=mobility)
    notification = Notification.objects.create(
        key=f"works:{works.pk}:new",
        kind=Kind.NEW,
        item_type="works",
        item_id=works.pk,
        texts={"fr": {"title": "Chantier", "body": "Rue barrée"}},
        targeted=28,
        opens=23,
        committed_at=T0,
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=T0)
    notification.refresh_from_db()
    for wave, delay in (("now", 0.2), ("40s", 40.5), ("70s", 70.1), ("100s", 100.9)):
        Delivery.objects.bulk_create(
            Delivery(
                notification=notification,
                device=d,
                status=DeliveryStatus.SENT,
                sent_at=T0 + timedelta(seconds=delay),
            )
            for d in devices[wave]
        )
    Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            device=d,
            status=DeliveryStatus.FAILED,
            reason=Reason.DEAD_TOKEN,
        )
        for d in devices["dead"]
    )
    openers = devices["now"][:7] + devices["40s"]
    for index, device in enumerate(openers):
        at = T0 + (timedelta(minutes=10) if index < 7 else timedelta(hours=2, minutes=1))
        Interaction.objects.create(
            device=device,
            event_id=uuid.uuid4(),
            item_type=ItemType.WORKS.value,
            item_id=works.pk,
            action=Action.OPEN,
            context=Context.PUSH,
            at=at,
        )
    # opened again later, and opened from the feed: neither counts again
    Interaction.objects.create(
        device=openers[0],
        event_id=uuid.uuid4(),
        item_type=ItemType.WORKS.value,
        item_id=works.pk,
        action=Action.OPEN,
        context=Context.PUSH,
        at=T0 + timedelta(hours=2, minutes=2),
    )
    Interaction.objects.create(
        device=devices["100s"][0],
        event_id=uuid.uuid4(),
        item_type=ItemType.WORKS.value,
        item_id=works.pk,
        action=Action.OPEN,
        context=Context.FEED,
        at=T0 + timedelta(minutes=5),
    )
    return notification, devices, {"moulin": moulin, "bellevue": bellevue}, openers


def test_step_for_cuts_a_span_into_at_most_24_steps():
    assert step_for(0) == 1
    assert step_for(23) == 1
    assert step_for(100) == 5
    assert step_for(2 * 3600) == 900
    assert step_for(10 * 3600) == 1800
    assert step_for(90 * 86400) == 604800
    assert nice_ceiling(0) == 5
    assert nice_ceiling(13) == 20
    assert nice_ceiling(120) == 200
    assert duration_text(41) == "41 s"
    assert duration_text(3 * 3600 + 5 * 60) == "3 h 05"


def test_sends_over_time_counts_the_sent_deliveries_by_step(pushed):
    notification, devices, _areas, _openers = pushed

    sends = sends_over_time(notification)

    assert sends.start == T0
    assert sends.step_s == 5
    counts = [c.count for c in sends.cells]
    assert len(counts) == 21
    assert {i: n for i, n in enumerate(counts) if n} == {0: 8, 8: 6, 14: 3, 20: 6}
    assert sum(counts) == 23
    # 50 % = the 12th device, in the second wave's second; 90 % = the 21st, in the last one
    assert sends.reached_s == {50: 41.0, 90: 101.0, 100: 101.0}
    # each step's key is the key of its devices: it rounds as the same set does elsewhere
    step_40s = Cell(6, sends.cells[8].key)
    assert str(disclose({"x": step_40s})["x"]) == shown_for(devices["40s"])


def test_opens_over_time_counts_each_consenting_device_once_at_its_first_open(pushed):
    notification, _devices, _areas, openers = pushed

    opens = opens_over_time(notification)

    assert opens is not None
    assert opens.step_s == 900
    assert {i: c.count for i, c in enumerate(opens.cells) if c.count} == {0: 7, 8: 6}
    assert opens.total.count == 13
    assert str(disclose({"x": opens.total})["x"]) == shown_for(openers)


def test_opens_of_an_item_count_until_the_next_notification_about_it(pushed):
    notification, _devices, _areas, _openers = pushed
    Notification.objects.create(
        key="works-update",
        kind=Kind.UPDATE,
        item_type="works",
        item_id=notification.item_id,
        texts={},
    )
    Notification.objects.filter(key="works-update").update(created_at=T0 + timedelta(hours=1))

    opens = opens_over_time(notification)

    assert opens is not None and opens.total.count == 7


def test_reach_by_area_counts_sent_devices_by_their_home_district(pushed):
    notification, devices, areas, _openers = pushed

    reach = reach_by_area(notification)

    assert {k: c.count for k, c in reach.items()} == {
        areas["moulin"].pk: 14,
        areas["bellevue"].pk: 3,
        None: 6,
    }
    moulin = reach[areas["moulin"].pk]
    assert str(disclose({"x": moulin})["x"]) == shown_for(devices["now"] + devices["40s"])
    drawn = map_areas(0.0002)
    assert [a.name for a in drawn] == ["Bellevue", "Le Moulin"]
    assert drawn[0].outline.geom_type in ("Polygon", "MultiPolygon")


def test_chart_cells_mask_what_would_tell_a_small_count_and_leave_the_table_alone(pushed):
    notification, _devices, areas, _openers = pushed
    stats = notification_stats([notification])[notification.pk]
    sends = sends_over_time(notification)
    opens = opens_over_time(notification)
    reach = reach_by_area(notification)
    area_ids = [areas["bellevue"].pk, areas["moulin"].pk]

    cells, relations = charts_cells(stats, sends, opens, reach, area_ids)
    shown = disclose(cells, relations)

    # the table's numbers are those of the list and the page without charts
    table = statistics_shown(notification, stats)
    assert {name: str(shown[name]) for name in table} == table
    # Bellevue (3) is masked, and so is "elsewhere" (6): else 23 - 14 - 6 would tell 3
    assert shown[f"area:{areas['bellevue'].pk}"].masked
    assert shown["area:elsewhere"].masked
    assert not shown[f"area:{areas['moulin'].pk}"].masked
    # the steps: 3 (70 s) and every empty step masked, then a 6 so that they add up to >= 5
    assert shown["send:14"].masked
    assert not shown["send:0"].masked
    assert shown["send:8"].masked != shown["send:20"].masked
    masked_sum = sum(c.count for n, c in cells.items() if n.startswith("send:") and shown[n].masked)
    assert masked_sum >= 5
    # the consenting openers are shown within the opens (23 - 13 = 10 is no small count)
    assert not shown["opens_logged"].masked
    assert Relation("opened", ("opens_logged",)) in relations


def test_statistics_page_draws_the_charts_with_the_tables_numbers(pushed, superuser_client):
    notification, devices, _areas, openers = pushed

    page = superuser_client.get(change_url(notification)).content.decode()

    sends = chart_rows(page, "chart-sends")
    assert len(sends) == 21
    values = [value for _label, value in sends]
    assert values[0] == shown_for(devices["now"])
    assert values[14] == str(MASK)  # the 3 of Bellevue
    assert values[1] == str(MASK)  # an empty step looks like any masked one
    bars = chart_bars(page, "chart-sends")
    assert len(bars) == 21
    for (masked, height, title), (_label, value) in zip(bars, sends, strict=True):
        assert masked == (value == str(MASK))
        assert title.endswith(value)
        if masked:  # a masked bar has the full height: it says nothing of its count
            assert height == COLUMNS_HEIGHT
        else:
            assert 0 < height <= COLUMNS_HEIGHT
    times = re.findall(
        r'<tr class="chart-row"><th scope="row">(\d+) % des envois</th>'
        r'<td class="chart-value">(.*?)</td>',
        page,
    )
    assert times == [("50", "41 s"), ("90", "1 min"), ("100", "1 min")]

    opens = chart_rows(page, "chart-opens")
    assert len(opens) == 9
    assert opens[0][1] == shown_for(openers[:7])
    assert opens[8][1] == shown_for(openers[7:])

    failures = dict(chart_rows(page, "chart-failures"))
    assert failures["Jeton invalide"] == shown_for(devices["dead"])
    assert failures["Trop de tentatives"] == str(MASK)

    reach = dict(chart_rows(page, "chart-reach"))
    assert reach == {
        "Bellevue": str(MASK),
        "Le Moulin": shown_for(devices["now"] + devices["40s"]),
        "Hors des quartiers connus": str(MASK),
    }
    paths = re.findall(r'<path class="area( masked)?" d="([^"]*)"[^>]*><title>(.*?)</title>', page)
    assert [(bool(m), html_lib.unescape(t).split(" : ")[0]) for m, _d, t in paths] == [
        (True, "Bellevue"),
        (False, "Le Moulin"),
    ]
    # Bellevue lies east of Le Moulin on the map
    first_x = [float(d[1:].split(",")[0]) for _m, d, _t in paths]
    assert first_x[0] > first_x[1]
    # every chart has a title and a text summary for screen readers
    for chart_id in ("chart-sends", "chart-opens", "chart-reach"):
        assert f'aria-labelledby="{chart_id}-title {chart_id}-summary"' in page


def test_statistics_page_with_charts_runs_a_fixed_number_of_queries(
    pushed, superuser_client, django_assert_num_queries
):
    notification, _devices, _areas, _openers = pushed
    superuser_client.get(change_url(notification))  # warm the session and caches

    with django_assert_num_queries(QUERIES_WITH_CHARTS):
        response = superuser_client.get(change_url(notification))
    assert response.status_code == 200


#: The page's queries: session, user and object, the table's statistics, and the charts (sends:
#: 2, opens: 3, areas: 2, reach: 1), whatever the number of devices, steps and districts.
QUERIES_WITH_CHARTS = 14


def test_test_push_page_has_no_charts(superuser_client, superuser):
    notification = Notification.objects.create(
        key="test-1", kind=Kind.TEST, texts={"fr": {"title": "Test", "body": ""}}, targeted=1
    )
    page = superuser_client.get(change_url(notification)).content.decode()
    assert "chart-sends" not in page
