"""The item index refreshed incrementally equals a full build at the same moment.

A generated city is indexed, then changed through the services (publish, edits of geometry,
category, text and urgency, archive, delete, an event's dates, a scheduled item published by
the beat, popularity) and by time alone (an expiry, an event's last date); the refresh reads
only the changed rows and its arrays, lists, trees and candidates equal a full build's. Changes
that do not move ``updated_at`` force a full read.
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import scipy.sparse as sp
from django.contrib.gis.geos import LineString, MultiPolygon, Point

from apps.core.geo import point as make_point
from apps.core.item_types import ItemType
from apps.core.models import Area, Category, Status
from apps.core.services import (
    area_save,
    content_archive,
    content_delete,
    content_lifecycle_run,
    content_publish,
    content_save,
    content_schedule,
)
from apps.events.models import Event
from apps.events.services import event_save
from apps.news.models import News
from apps.recommend.codes import Action, Context
from apps.recommend.models import Interaction
from apps.recommend.online import item_index
from apps.recommend.online.candidate_query import CandidateRequest
from apps.recommend.online.index_query import index_catalog
from apps.recommend.online.index_refresh import full_read_reason, index_refresh, index_update
from apps.recommend.online.item_index import (
    ExtendedTree,
    ItemIndex,
    PointTree,
    current_index,
    index_build,
)
from apps.recommend.online.segments import Segments
from apps.recommend.services import item_popularity_refresh
from apps.residents.models import Device
from apps.works.models import Works
from bench.city.build import CitySpec, build
from tests.factories import NewsFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CITY = CitySpec(devices=60, items=600, interactions=3000, seed=17, token_sample=5, now=NOW)
#: When the first index is read: the city's rows are older than its read less the slack.
T0 = NOW + timedelta(minutes=30)
T1 = T0 + timedelta(minutes=10)  # the changes
T2 = T1 + timedelta(minutes=1)  # the refresh
BOOKKEEPING = {"generation", "built_at_s", "read_at_us", "full_at_s", "full_token", "refreshes"}


@pytest.fixture
def city(time_machine, settings):
    settings.FEED_INDEX_REFRESH_SLACK_S = 60
    settings.FEED_INDEX_FULL_EVERY_S = 86400
    time_machine.move_to(NOW + timedelta(minutes=5), tick=False)
    build(CITY)
    item_popularity_refresh()
    return time_machine


def _equal_arrays(a: np.ndarray, b: np.ndarray, name: str) -> None:
    assert a.dtype == b.dtype, name
    assert a.shape == b.shape, name
    assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name


def assert_same_index(mine: ItemIndex, full: ItemIndex) -> None:
    """Every field of the two indexes equal, array by array (bookkeeping aside)."""
    for f in fields(ItemIndex):
        if f.name in BOOKKEEPING:
            continue
        a, b = getattr(mine, f.name), getattr(full, f.name)
        if isinstance(a, np.ndarray):
            _equal_arrays(a, b, f.name)
        elif isinstance(a, sp.csr_matrix):
            assert a.shape == b.shape and (a != b).nnz == 0, f.name
            assert (a.data.dtype, a.indices.dtype) == (b.data.dtype, b.indices.dtype), f.name
        elif isinstance(a, Segments):
            for part in ("ptr", "x1", "y1", "x2", "y2", "polygon"):
                _equal_arrays(getattr(a, part), getattr(b, part), f"segments.{part}")
        elif isinstance(a, dict):
            assert a.keys() == b.keys(), f.name
            for key, value in a.items():
                other = b[key]
                if isinstance(value, PointTree):
                    _equal_arrays(value.rows, other.rows, f"{f.name}[{key}].rows")
                    _equal_arrays(value.tree.data, other.tree.data, f"{f.name}[{key}].tree")
                elif isinstance(value, ExtendedTree):
                    _equal_arrays(value.rows, other.rows, f"{f.name}[{key}].rows")
                    _equal_arrays(value.big, other.big, f"{f.name}[{key}].big")
                    assert value.radius_m == other.radius_m
                    assert (value.tree is None) == (other.tree is None)
                    if value.tree is not None:
                        _equal_arrays(value.tree.data, other.tree.data, f"{f.name}[{key}]")
                else:
                    _equal_arrays(value, other, f"{f.name}[{key}]")
        else:
            assert a == b, f.name


def _requests(now: datetime, index: ItemIndex) -> list[CandidateRequest]:
    lon = float(np.nanmedian(index.lon))
    lat = float(np.nanmedian(index.lat))
    rng = np.random.default_rng(3)
    points = [make_point(lon + rng.normal(0, 0.02), lat + rng.normal(0, 0.015)) for _ in range(5)]
    categories = frozenset(int(c) for c in np.unique(index.category)[:3])
    areas = frozenset(int(a) for a in np.unique(index.area_ids)[:3])
    organizations = frozenset(int(o) for o in np.unique(index.organization)[:2])
    return [
        CandidateRequest(now=now),
        *(CandidateRequest(now=now, point=p) for p in points),
        CandidateRequest(
            now=now,
            places=points[:2],
            followed_categories=categories,
            followed_areas=areas,
            followed_organizations=organizations,
            personal=True,
        ),
    ]


def _first(model, **filters):
    return model.objects.filter(status=Status.PUBLISHED, **filters).order_by("pk").first()


def _set_up_time_changes() -> tuple[News, Event]:
    """Before the first read: an item that expires, and an event whose dates end, between the
    first read and the refresh (no write then)."""
    expiring = _first(News, expires_at__isnull=True)
    expiring.expires_at = T1 + timedelta(seconds=30)
    content_save(item=expiring)
    ending = _first(Event, rrule="")
    ending.start_at = T0 - timedelta(hours=1)
    ending.end_at = T1 + timedelta(seconds=20)
    ending.expires_at = None
    event_save(event=ending)
    return expiring, ending


def _change_through_services() -> dict[str, int]:
    """The content changes at ``T1``; returns the ids changed by type (what the refresh reads)."""
    fresh = NewsFactory(title_fr="Nouvelle piscine municipale", geometry=Point(4.84, 45.76))
    content_save(item=fresh)
    content_publish(item=fresh)
    moved = _first(Works)
    moved.geometry = LineString((4.80, 45.70), (4.86, 45.76), (4.87, 45.75), srid=4326)
    content_save(item=moved)  # geometry and areas
    recategorised = _first(News, geometry__isnull=False, expires_at__isnull=True)
    recategorised.category = Category.objects.exclude(pk=recategorised.category_id).first()
    recategorised.title_fr = "Un titre tout neuf pour le marché"
    recategorised.urgency = 2
    content_save(item=recategorised)
    content_archive(item=_first(Works, pk__gt=moved.pk))
    content_delete(item=_first(Event, pk__gt=_first(Event).pk))
    dated = _first(Event, rrule="", pk__gt=_first(Event).pk + 1)
    dated.start_at = T1 + timedelta(days=3)
    dated.end_at = dated.start_at + timedelta(hours=3)
    event_save(event=dated, extra_dates=[(T1 + timedelta(days=5), T1 + timedelta(days=5, hours=1))])
    device = Device.objects.order_by("pk").first()
    for k in range(30):  # the popularity refresh brings it to the top of the trending news
        Interaction.objects.create(
            device=device, event_id=uuid.uuid4(), item_type=ItemType.NEWS,
            item_id=recategorised.pk, action=Action.OPEN, context=Context.FEED,
            at=T1 - timedelta(minutes=k),
        )  # fmt: skip
    item_popularity_refresh(now=T1)
    return {"news": 2, "works": 1, "events": 1}


def test_incremental_refresh_equals_a_full_build(city):
    city.move_to(T0 - timedelta(minutes=5), tick=False)
    expiring, ending = _set_up_time_changes()
    scheduled = NewsFactory(title_fr="Programmée pour la rentrée")
    content_save(item=scheduled)
    content_schedule(item=scheduled, publish_at=T1 - timedelta(seconds=30))
    city.move_to(T0, tick=False)
    first = index_build(generation="g0", now=T0)
    assert first.rows_of(np.array([(0 << 40) + expiring.pk]))[0] >= 0
    city.move_to(T1, tick=False)
    assert content_lifecycle_run(at=T1)["published"] == 1  # the scheduled item
    changed = _change_through_services()
    city.move_to(T2, tick=False)
    refreshed, read = index_update(first, generation="g1", now=T2)
    # Only the changed and published rows were read: 2 news edited or new, the scheduled one,
    # the works moved, the event re-dated (the archived and deleted ones are not live).
    assert read == sum(changed.values()) + 1
    full = index_build(generation="g1", now=T2)
    assert_same_index(refreshed, full)
    assert refreshed.rows_of(np.array([(0 << 40) + expiring.pk]))[0] == -1  # expired
    assert refreshed.rows_of(np.array([(2 << 40) + ending.pk]))[0] == -1  # over
    assert refreshed.rows_of(np.array([(0 << 40) + scheduled.pk]))[0] >= 0
    for request in _requests(T2, full):
        mine = index_catalog(refreshed, request).catalog
        theirs = index_catalog(full, request).catalog
        assert set(mine.candidates().keys) == set(theirs.candidates().keys)
        assert np.array_equal(mine.catalog.keys, theirs.catalog.keys)
        assert (mine.catalog.text != theirs.catalog.text).nnz == 0


def test_refreshes_chain_and_reuse_rows(city):
    city.move_to(T0, tick=False)
    index = index_build(generation="g0", now=T0)
    for k in range(3):
        city.move_to(T0 + timedelta(minutes=5 * (k + 1)), tick=False)
        item = _first(Works, pk__gt=k)
        item.title_fr = f"Chantier renommé {k}"
        content_save(item=item)
        now = T0 + timedelta(minutes=5 * (k + 1), seconds=10)
        index = index_refresh(generation=f"g{k + 1}", previous=index, now=now)
        assert index.refreshes == k + 1
    assert_same_index(index, index_build(generation="full", now=now))


def test_process_index_follows_a_change_incrementally(city):
    city.move_to(T0, tick=False)
    first = current_index()
    assert first is not None and first.refreshes == 0
    city.move_to(T1, tick=False)
    gone = _first(News)
    content_archive(item=gone)
    second = current_index()
    assert second is not first and second.refreshes == 1
    assert second.rows_of(np.array([gone.pk]))[0] == -1
    assert len(second) == len(first) - 1


def test_changes_without_updated_at_force_a_full_read(city, settings):
    city.move_to(T0, tick=False)
    index = index_build(generation="g0", now=T0)
    assert full_read_reason(index, T0) is None
    city.move_to(T1, tick=False)
    area = Area.objects.order_by("pk").first()
    grown = area.geometry.buffer(0.01)
    area.geometry = grown if grown.geom_type == "MultiPolygon" else MultiPolygon(grown, srid=4326)
    area_save(area=area)  # items re-tagged, their updated_at unchanged
    assert full_read_reason(index, T1) == "full token"
    fresh = index_refresh(generation="g1", previous=index, now=T1)
    assert fresh.refreshes == 0 and full_read_reason(fresh, T1) is None
    assert_same_index(fresh, index_build(generation="g1", now=T1))
    item = _first(News)
    item.urgency = 2
    item.save(update_fields=["urgency"])  # a save of chosen fields, not updated_at
    assert full_read_reason(fresh, T1) == "full token"
    again = index_refresh(generation="g2", previous=fresh, now=T1)
    assert again.refreshes == 0 and again.urgency[again.rows_of(np.array([item.pk]))[0]] == 2
    settings.FEED_INDEX_FULL_EVERY_S = 600  # the safety net
    assert full_read_reason(again, T1 + timedelta(seconds=599)) is None
    assert full_read_reason(again, T1 + timedelta(seconds=600)) == "periodic"


def test_a_transaction_committed_long_after_its_writes_forces_a_full_read(
    city, django_capture_on_commit_callbacks
):
    city.move_to(T0, tick=False)
    index = index_build(generation="g0", now=T0)
    item = _first(News)
    with django_capture_on_commit_callbacks(execute=True):
        item.title_fr = "Écrit et validé dans la foulée"
        content_save(item=item)
    assert full_read_reason(index, T0) is None
    with django_capture_on_commit_callbacks(execute=True):
        item.title_fr = "Écrit tôt, validé tard"
        content_save(item=item)
        city.move_to(T0 + timedelta(seconds=31), tick=False)  # beyond half the slack (60 s)
    assert full_read_reason(index, T0 + timedelta(seconds=31)) == "full token"
    assert item_index.full_token_current() != index.full_token
