"""``items_fetch`` runs each type's list selector compiled once per process (PostgreSQL): the
same items and fields as the ORM queryset, with "now" taken at each call, not at compile time."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.core.api import items as items_api
from apps.core.api.items import items_fetch, list_queryset, serialize_items
from apps.events.models import EventOccurrence
from tests.factories import EventFactory, NewsFactory, WorksFactory
from tests.residents.factories import published

pytestmark = pytest.mark.django_db


def _orm(refs):
    found = {}
    for type_code in {t for t, _ in refs}:
        ids = [pk for t, pk in refs if t == type_code]
        for item in list_queryset(type_code).filter(pk__in=ids):
            found[(type_code, item.pk)] = item
    return [found[ref] for ref in refs if ref in found]


def test_same_items_and_fields_as_the_orm_selectors():
    items = [published(f()) for f in (NewsFactory, WorksFactory, EventFactory) for _ in range(3)]
    refs = [(item.type_code, item.pk) for item in reversed(items)]
    refs.append(("news", 10**9))  # unknown: left out

    fetched = items_fetch(refs)

    assert [(i.type_code, i.pk) for i in fetched] == refs[:-1]
    assert serialize_items(fetched) == serialize_items(_orm(refs))
    assert all(items_api._COMPILED[items_api._TYPES[t]].sql for t in ("news", "works", "events"))


def test_now_is_the_time_of_each_call_not_of_the_compilation():
    start = timezone.now()
    expiring = published(NewsFactory(expires_at=start + timedelta(hours=1)))
    event = published(EventFactory(start_at=start + timedelta(minutes=30)))
    EventOccurrence.objects.filter(event=event).update(
        start_at=start + timedelta(minutes=30), end_at=start + timedelta(minutes=90)
    )
    later = EventOccurrence.objects.create(
        event=event, start_at=start + timedelta(days=1), end_at=start + timedelta(days=1, hours=1)
    )
    refs = [("news", expiring.pk), ("events", event.pk)]
    items_api._COMPILED.clear()
    first = serialize_items(items_fetch(refs))  # compiled now
    assert [item["id"] for item in first] == [expiring.pk, event.pk]

    with time_machine.travel(start + timedelta(hours=2)):
        after = items_fetch(refs)
        assert [(i.type_code, i.pk) for i in after] == [("events", event.pk)]  # news expired
        assert after[0].next_start_at == later.start_at  # the first date is over
        assert serialize_items(after) == serialize_items(_orm(refs))


@pytest.mark.django_db(transaction=True)
def test_a_statement_compiled_in_one_thread_serves_another():
    import threading

    from django.db import connection

    item = published(NewsFactory())
    items_api._COMPILED.clear()
    expected = serialize_items(items_fetch([("news", item.pk)]))  # compiled in this thread
    out: list = []

    def other() -> None:
        try:
            out.append(serialize_items(items_fetch([("news", item.pk)])))
        finally:
            connection.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert out == [expected] and expected[0]["id"] == item.pk
