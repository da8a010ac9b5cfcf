"""Feed pagination: a snapshot per first page, stable while the resident scrolls."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Urgency
from tests.recommend.feed_support import (
    URL,
    add_place,
    alert,
    at,
    consenting,
    event,
    expire,
    interact,
    news,
    read_all,
    refs,
    works,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


def city(n: int = 36) -> list:
    """``n`` live items of the three types around the centre."""
    items = []
    for k in range(n):
        maker = (news, works, event)[k % 3]
        items.append(maker(60 * k, 40 * (k % 5)))
    return items


def cursor_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["cursor"][0]


def test_pages_have_no_duplicates_and_no_gaps_while_the_city_changes():
    resident = consenting()
    add_place(resident, radius_m=2000)
    items = city()
    everything = {(i.type_code, i.pk) for i in items}
    first = resident.client.get(URL, {"page_size": 10}).json()
    one_page = refs(first)
    assert len(one_page) == 10

    # While the resident reads page 1: new items (an alert among them), a dismissal of an
    # item further down, an item that ends, and 25 minutes that pass.
    full = resident.client.get(URL, {"page_size": 100}).json()  # the same ranking, at once
    later = [ref for ref in refs(full) if ref not in one_page]
    news(10, urgency=Urgency.ALERT)
    news(20)
    ended = later[5]
    by_ref = {(i.type_code, i.pk): i for i in items}
    expire(by_ref[ended])
    dismissed = later[7]
    interact(resident, by_ref[dismissed], "dismiss")  # e.g. from the map
    with time_machine.travel(timezone.now() + timedelta(minutes=25)):
        rest = read_all(resident.client, first["next"])

    seen = one_page + [ref for page in rest for ref in refs(page)]
    assert len(seen) == len(set(seen)), "an item came back on a later page"
    assert set(seen) <= everything, "a new item slipped into the scroll"
    assert set(seen) == everything - {ended, dismissed}, "an item was skipped"
    assert [ref for ref in refs(full) if ref not in {ended, dismissed}] == seen  # same order


def test_a_refresh_without_cursor_sees_the_new_items():
    resident = consenting()
    add_place(resident)
    city(9)
    first = resident.client.get(URL, {"page_size": 5}).json()
    fresh = alert(30)
    assert ("news", fresh.pk) not in refs(resident.client.get(first["next"]).json())
    assert refs(resident.client.get(URL, {"page_size": 5}).json())[0] == ("news", fresh.pk)


def test_previous_links_go_back_and_the_last_page_has_no_next():
    city(12)
    client = APIClient()
    query = {"lat": at()[1], "lon": at()[0], "page_size": 5}
    first = client.get(URL, query).json()
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()
    assert refs(back) == refs(first)
    pages = read_all(client, first["next"])
    assert pages[-1]["next"] is None
    assert sum(len(p["results"]) for p in pages) + 5 == 12


def test_an_expired_or_tampered_cursor_is_a_400():
    city(6)
    client = APIClient()
    first = client.get(URL, {"page_size": 2}).json()
    cursor = cursor_of(first["next"])

    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    response = client.get(URL, {"cursor": tampered})
    assert response.status_code == 400
    assert response.json()["fields"]["cursor"] == ["Curseur invalide."]
    english = client.get(URL, {"cursor": tampered}, HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["fields"]["cursor"] == ["Invalid cursor."]

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    assert "a expiré" in response.json()["fields"]["cursor"][0]

    cache.clear()  # the snapshot is gone (evicted, or the cache restarted)
    response = client.get(URL, {"cursor": cursor})
    assert response.status_code == 400
    assert "a expiré" in response.json()["fields"]["cursor"][0]


def test_a_personal_cursor_answers_only_its_device():
    resident, other = consenting(), consenting()
    add_place(resident)
    city(6)
    first = resident.client.get(URL, {"page_size": 2}).json()
    assert other.client.get(first["next"]).status_code == 400
    assert APIClient().get(first["next"]).status_code == 400
    assert resident.client.get(first["next"]).status_code == 200
