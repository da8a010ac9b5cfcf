"""The 7-day popularity aggregate: refreshed by the beat, read by the feed (trending, reasons)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.recommend.codes import ItemType
from apps.recommend.models import ItemPopularity
from apps.recommend.online import candidate_statement as statement
from apps.recommend.online.candidate_query import CandidateRequest, feed_catalog
from apps.recommend.services import item_popularity_refresh
from apps.recommend.tasks import item_popularity_refresh_tick
from tests.recommend.feed_support import URL, at, consenting, here, interact, news

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]


def test_refresh_counts_positives_of_the_last_seven_days_only():
    hot, cold = news(100), news(200)
    fans = [consenting() for _ in range(6)]
    for fan in fans:
        interact(fan, hot, "open")
        interact(fan, cold, "impression")
    interact(fans[0], hot, "share")
    interact(fans[1], cold, "open", ago=timedelta(days=8))  # outside the window

    assert item_popularity_refresh() == 1
    row = ItemPopularity.objects.get()
    assert (row.item_type, row.item_id, row.positives) == (ItemType.NEWS, hot.pk, 7)

    interact(fans[2], cold, "like")
    assert item_popularity_refresh_tick() == 2  # the table is rebuilt, not appended to
    assert ItemPopularity.objects.filter(item_id=cold.pk).get().positives == 1
    assert ItemPopularity.objects.count() == 2


@pytest.fixture
def small_caps(monkeypatch):
    """Caps of a few items per source, so that a handful of items overflows them."""
    monkeypatch.setattr(statement, "NEAR_TOTAL", 6)
    monkeypatch.setattr(statement, "NEAR_MIN", 2)
    monkeypatch.setattr(statement, "RECENT_NEWS", 3)
    monkeypatch.setattr(statement, "URGENT", 3)
    statement._STATEMENTS.clear()  # compiled with the caps in force
    yield
    statement._STATEMENTS.clear()


def test_trending_items_become_candidates_after_the_refresh(small_caps):
    far_but_hot = news(25_000, 25_000)  # neither near nor among the newest
    for k in range(8):
        news(50 * k)
    for _ in range(3):
        interact(consenting(), far_but_hot, "open")
    request = CandidateRequest(now=timezone.now(), point=here())

    before = feed_catalog(request).candidates()
    assert far_but_hot.pk not in before.item_id
    item_popularity_refresh()
    after = feed_catalog(request).candidates()
    assert far_but_hot.pk in after.item_id
    assert after.popularity[list(after.item_id).index(far_but_hot.pk)] == 3


def test_a_popular_item_says_so():
    hot = news(3000)  # not near the caller, and not new: popularity is its reason
    type(hot).objects.filter(pk=hot.pk).update(publish_at=timezone.now() - timedelta(days=5))
    news(200)
    for _ in range(5):
        interact(consenting(), hot, "like")
    item_popularity_refresh()
    body = APIClient().get(URL, {"lat": at()[1], "lon": at()[0]}).json()
    shown = {(i["type"], i["id"]): i["reasons"] for i in body["results"]}
    assert {"code": "popular", "text": "Populaire en ce moment"} in shown[("news", hot.pk)]
