"""PostgreSQL failing under a request: a statement timeout, a connection killed mid-request.

The client gets a clean 503 (the error shape, ``Retry-After``), nothing is half-written, and
the next request succeeds. Real PostgreSQL: a second connection holds a row lock so that the
request waits inside its transaction, then the lock times out or its backend is terminated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from django.db import connection

from apps.core.services import api_key_create
from apps.news.models import News
from tests.api_support import key_client, published_news

pytestmark = pytest.mark.django_db(transaction=True)


def _conninfo() -> str:
    s = connection.settings_dict
    parts = {"dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"]}
    parts.update(host=s["HOST"], port=str(s["PORT"]))
    return " ".join(f"{k}='{v}'" for k, v in parts.items() if v)


@pytest.fixture
def row_lock() -> Iterator[callable]:
    """``lock(news)``: another session holds the news row ``FOR UPDATE`` until the test ends."""
    holder = psycopg.connect(_conninfo())

    def lock(news: News) -> None:
        holder.execute(f"SELECT 1 FROM {News._meta.db_table} WHERE id = %s FOR UPDATE", [news.pk])

    yield lock
    holder.rollback()
    holder.close()


@pytest.fixture
def statement_timeout_ms() -> Iterator[callable]:
    """Reconnect the application's connection with another ``statement_timeout``."""
    saved = connection.settings_dict["OPTIONS"].get("options", "")

    def use(ms: int) -> None:
        connection.close()
        connection.settings_dict["OPTIONS"]["options"] = f"{saved} -c statement_timeout={ms}"

    yield use
    connection.close()
    connection.settings_dict["OPTIONS"]["options"] = saved


def test_application_connections_have_statement_and_idle_timeouts(settings):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW idle_in_transaction_session_timeout")
        idle = cursor.fetchone()[0]
    assert (statement, idle) == ("10s", "30s")


def test_statement_timeout_is_a_503_and_writes_nothing(
    city, mobility, row_lock, statement_timeout_ms
):
    news = published_news(organization=city, category=mobility, title_fr="Avant")
    client = key_client(city)
    row_lock(news)
    statement_timeout_ms(300)

    started = time.monotonic()
    response = client.patch(f"/api/v1/news/{news.pk}/", {"title_fr": "Après"}, format="json")
    took = time.monotonic() - started

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "error": "timeout",
        "message": "La requête a pris trop de temps et a été annulée ; réessayez plus tard.",
    }
    assert took < 2
    news.refresh_from_db()
    assert news.title_fr == "Avant"


def test_connection_killed_mid_request_is_a_503_then_the_next_request_succeeds(
    live_server, city, mobility, row_lock
):
    news = published_news(organization=city, category=mobility, title_fr="Avant")
    _key, raw = api_key_create(organization=city, name="faults")
    headers = {"Authorization": f"Api-Key {raw}"}
    url = f"{live_server.url}/api/v1/news/{news.pk}/"
    row_lock(news)
    answers: list[httpx.Response] = []
    request = threading.Thread(
        target=lambda: answers.append(
            httpx.patch(url, json={"title_fr": "Après"}, headers=headers, timeout=30)
        )
    )
    request.start()

    with psycopg.connect(_conninfo(), autocommit=True) as killer:
        waiting = None
        deadline = time.monotonic() + 10
        while waiting is None and time.monotonic() < deadline:
            waiting = killer.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            time.sleep(0.02)
        assert waiting, "the request never waited on the lock"
        killer.execute("SELECT pg_terminate_backend(%s)", [waiting[0]])
    request.join(timeout=15)

    (answer,) = answers
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["error"] == "database_unavailable"
    news.refresh_from_db()
    assert news.title_fr == "Avant"  # the killed transaction was rolled back

    again = httpx.get(url, timeout=10)
    assert again.status_code == 200
    assert again.json()["title"] == "Avant"
