"""A batch of deliveries costs the same few SQL queries whatever its size (no per-row query)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.models import Urgency
from apps.core.services import content_publish
from apps.notifications import services
from apps.notifications.batching import claim_rows, ids_in
from apps.notifications.gateway.configured import get_gateway
from apps.notifications.models import Delivery, DeliveryStatus
from testing.pushworker import create_devices
from tests.factories import CategoryFactory, NewsFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("log_backend")]


def batch_queries(devices: int, urgency: int, django_capture_on_commit_callbacks) -> list[str]:
    """Publish a news item to ``devices`` devices (dispatch not run), send them as one batch;
    return the SQL of the batch."""
    category = CategoryFactory()
    create_devices(devices, prefix=f"q{devices}-{urgency}-", category_id=category.pk, grid=(3, 3))
    news = NewsFactory(category=category, notify=True, urgency=urgency)
    with django_capture_on_commit_callbacks(execute=False):
        content_publish(item=news)
    ids = list(Delivery.objects.filter(notification__item_id=news.pk).values_list("pk", flat=True))
    assert len(ids) >= devices  # an alert also reaches the devices of an earlier call
    with CaptureQueriesContext(connection) as queries:
        report = services.deliveries_send(ids=ids)
    assert report.sent == len(ids)
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize("urgency", [Urgency.INFO, Urgency.ALERT])
def test_a_batch_costs_the_same_queries_for_3_or_300_deliveries(
    urgency, django_capture_on_commit_callbacks
):
    small = batch_queries(3, urgency, django_capture_on_commit_callbacks)
    large = batch_queries(300, urgency, django_capture_on_commit_callbacks)

    statements = [sql for sql in large if not sql.startswith(("SAVEPOINT", "RELEASE"))]
    # Claim (deliveries with devices, then their notification), is the item still public,
    # the daily cap (non-alerts only), mark sending; then mark sent, store the open tickets
    # (one INSERT for the whole batch) and count the reach on the notification; on the
    # first batch only, its audit-trail row "first sent" (one INSERT; the read runs always).
    assert len(statements) == (10 if urgency == Urgency.INFO else 9)
    assert statements[-4].startswith('INSERT INTO "notifications_openticket"')
    assert statements[-3].startswith('UPDATE "notifications_notification" SET "reached"')
    assert statements[-1].startswith('INSERT INTO "notifications_historicalnotification"')
    assert len(small) == len(large)
    assert "FOR UPDATE OF" in statements[0] and "SKIP LOCKED" in statements[0]
    assert "= ANY(" in statements[0]
    assert get_gateway().records()


def test_claim_rows_lock_only_due_pending_rows_with_what_the_batch_reads(
    django_capture_on_commit_callbacks,
):
    category = CategoryFactory()
    create_devices(4, prefix="claim-", category_id=category.pk, grid=(3, 3))
    news = NewsFactory(category=category, notify=True, urgency=Urgency.ALERT)
    with django_capture_on_commit_callbacks(execute=False):
        content_publish(item=news)
    rows = list(Delivery.objects.order_by("pk"))
    Delivery.objects.filter(pk=rows[1].pk).update(status=DeliveryStatus.SENT)
    later = timezone.now() + timedelta(hours=1)
    Delivery.objects.filter(pk=rows[2].pk).update(not_before=later)

    with CaptureQueriesContext(connection) as queries:
        claimed = claim_rows([r.pk for r in rows], timezone.now())
        tokens = [
            (row.device.push_token, row.device.language, row.notification.tag) for row in claimed
        ]

    assert [row.pk for row in claimed] == [rows[0].pk, rows[3].pk]
    assert all(token and tag == f"news-{news.pk}" for token, _language, tag in tokens)
    assert len(queries.captured_queries) == 2  # nothing loaded lazily per row
    assert Delivery.objects.filter(ids_in([rows[0].pk, rows[3].pk])).count() == 2
    assert Delivery.objects.filter(ids_in([])).count() == 0


def test_ids_in_is_an_in_list_off_postgresql():
    queryset = Delivery.objects.filter(ids_in([3, 5]))
    sql, params = queryset.query.get_compiler(using="spatialite").as_sql()
    assert '"notifications_delivery"."id" IN (%s, %s)' in sql
    assert params == (3, 5)
    sql, params = queryset.query.get_compiler(using="default").as_sql()
    assert '"notifications_delivery"."id" = ANY(%s)' in sql
    assert params == ([3, 5],)


def test_only_a_notifications_first_batch_writes_its_audit_row(django_capture_on_commit_callbacks):
    category = CategoryFactory()
    create_devices(20, prefix="twice-", category_id=category.pk, grid=(3, 3))
    news = NewsFactory(category=category, notify=True, urgency=Urgency.ALERT)
    with django_capture_on_commit_callbacks(execute=False):
        content_publish(item=news)
    ids = sorted(
        Delivery.objects.filter(notification__item_id=news.pk).values_list("pk", flat=True)
    )
    history = 'INSERT INTO "notifications_historicalnotification"'

    batches = []
    for half in (ids[:10], ids[10:]):
        with CaptureQueriesContext(connection) as queries:
            services.deliveries_send(ids=half)
        batches.append([q["sql"] for q in queries.captured_queries])

    assert sum(sql.startswith(history) for sql in batches[0]) == 1
    assert not any(sql.startswith(history) for sql in batches[1])
    assert len(batches[1]) == len(batches[0]) - 1  # the read stays, and finds no first send
