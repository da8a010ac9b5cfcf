"""The audit trail: who acted on each history row (staff, API key, import, task), what the
helpers for bulk writes record, the CADA export's rows, and no resident data in the trail."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from apps.core.audit.actors import acting_as, bulk_create_with_audit
from apps.core.audit.trail import TrailFilter, history_models, trail_rows
from apps.core.models import Membership, OrganizationApiKey
from apps.core.services import api_key_create, api_key_revoke, content_publish, content_save
from apps.events.models import EventOccurrence
from apps.events.services import event_apply
from apps.news.models import News
from apps.residents.models import Device
from apps.works.models import WorksPeriod
from tests.api_support import key_client
from tests.factories import (
    CENTRE_LAT,
    CENTRE_LON,
    EventFactory,
    NewsFactory,
    UserFactory,
    WorksFactory,
)

pytestmark = pytest.mark.django_db


def _whole_day() -> TrailFilter:
    now = timezone.now()
    return TrailFilter(since=now - timedelta(hours=1), until=now + timedelta(hours=1))


def test_a_service_given_a_user_records_their_name_and_role(city, city_editor, mobility):
    city_editor.first_name, city_editor.last_name = "Camille", "Durand"
    city_editor.save()
    news = NewsFactory(organization=city, category=mobility, title_fr="Avant")
    news.title_fr = "Après"

    content_save(item=news, user=city_editor)

    last = news.history.latest()
    assert last.history_type == "~"
    assert last.history_user == city_editor
    assert last.history_actor == "Camille Durand"
    role = Membership.objects.get(user=city_editor, organization=city).get_role_display()
    assert last.history_role == role
    assert last.title_fr == "Après"
    assert last.prev_record.title_fr == "Avant"


def test_api_key_writes_record_the_key_as_the_actor(city, mobility):
    client = key_client(city)
    key = OrganizationApiKey.objects.get(organization=city, name="test")
    body = {
        "title_fr": "Fermeture de la piscine",
        "category": "mobilite",
        "geometry": {"type": "Point", "coordinates": [CENTRE_LON, CENTRE_LAT]},
    }

    created = client.post("/api/v1/news/", body, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = client.patch(f"/api/v1/news/{pk}/", {"summary_fr": "Vidange."}, format="json")
    assert changed.status_code == 200

    rows = list(News.history.filter(id=pk).order_by("history_id"))
    assert [r.history_type for r in rows][:1] == ["+"]
    assert rows[-1].summary_fr == "Vidange."
    assert {r.history_user_id for r in rows} == {None}
    assert {r.history_actor for r in rows} == {f"clé d'API « test » ({key.prefix}…)"}


def test_api_keys_are_historised_without_their_hash(city, superuser):
    key, _raw = api_key_create(organization=city, name="SIG", user=superuser)
    api_key_revoke(key=key, user=superuser)

    rows = list(key.history.order_by("history_id"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert rows[-1].revoked_at is not None and rows[-1].history_user == superuser
    assert rows[-1].history_role == "administrateur"
    names = {f.name for f in OrganizationApiKey.history.model._meta.fields}
    assert "hashed_key" not in names and "last_used_at" not in names


def test_changes_without_a_user_name_the_automaton(city, mobility):
    news = NewsFactory(organization=city, category=mobility)
    with acting_as("import « Métropole (WZDx) »"):
        news.summary_fr = "Importé"
        content_save(item=news)
    content_publish(item=news)

    imported, published = news.history.order_by("-history_id")[:2][::-1]
    assert imported.history_actor == "import « Métropole (WZDx) »"
    assert imported.history_user is None
    assert published.history_actor == "système"


def test_bulk_helper_records_each_row_with_the_actor(city, mobility):
    works = WorksFactory(organization=city, category=mobility)
    today = timezone.localdate()
    periods = [
        WorksPeriod(works=works, start_date=today, end_date=today + timedelta(days=d))
        for d in (1, 2)
    ]

    with acting_as("chargement initial"):
        bulk_create_with_audit(WorksPeriod, periods)

    rows = WorksPeriod.history.filter(works_id=works.pk)
    assert rows.count() == 2
    assert set(rows.values_list("history_type", "history_actor")) == {("+", "chargement initial")}


def test_event_dates_history_shows_only_the_date_that_changed(city, mobility, city_editor):
    event = EventFactory(organization=city, category=mobility)
    start = event.start_at
    extra = (start + timedelta(days=7), start + timedelta(days=7, hours=2))
    event_apply(event=event, data={"extra_dates": [extra]}, user=city_editor)
    main = event.occurrences.get(origin=EventOccurrence.Origin.MAIN)
    before = EventOccurrence.history.filter(event_id=event.pk).count()

    moved = (start + timedelta(days=8), start + timedelta(days=8, hours=2))
    event_apply(event=event, data={"extra_dates": [moved]}, user=city_editor)

    new_rows = EventOccurrence.history.filter(event_id=event.pk).order_by("history_id")[before:]
    assert sorted((r.history_type, r.start_at) for r in new_rows) == sorted(
        [("-", extra[0]), ("+", moved[0])]
    )
    assert {r.history_user for r in new_rows} == {city_editor}
    assert event.occurrences.get(origin=EventOccurrence.Origin.MAIN).pk == main.pk  # untouched


def test_export_rows_say_who_when_and_each_field_old_and_new(city, mobility, city_editor):
    news = NewsFactory(organization=city, category=mobility, title_fr="Avant")
    news.title_fr = "Après"
    news.geometry = Point(CENTRE_LON + 0.001, CENTRE_LAT, srid=4326)
    content_save(item=news, user=city_editor)

    out = io.StringIO()
    day = timezone.localdate().isoformat()
    call_command(
        "audit_export", since=day, until=day, item=f"news:{news.pk}", format="csv", stdout=out
    )

    table = list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff")), delimiter=";"))
    changed = [r for r in table if r["Action"] == "modification"]
    by_field = {r["Champ"]: r for r in changed}
    assert by_field["titre [fr]"]["Ancienne valeur"] == "Avant"
    assert by_field["titre [fr]"]["Nouvelle valeur"] == "Après"
    assert by_field["localisation"]["Nouvelle valeur"].startswith("POINT (4.8")
    assert {r["Auteur"] for r in changed} == {city_editor.get_username()}
    assert {r["Organisation"] for r in table} == {city.name}
    assert "titre" not in by_field  # the language-less column is not shown twice
    created = [r for r in table if r["Action"] == "création"]
    assert any(r["Champ"] == "titre [fr]" and r["Nouvelle valeur"] == "Avant" for r in created)


def test_export_of_an_organization_leaves_out_the_others(city, metropole, mobility):
    NewsFactory(organization=city, category=mobility, title_fr="De la ville")
    NewsFactory(organization=metropole, category=mobility, title_fr="De la métropole")
    now = timezone.now()

    rows = list(
        trail_rows(
            TrailFilter(
                since=now - timedelta(hours=1),
                until=now + timedelta(hours=1),
                organization_id=city.pk,
            )
        )
    )

    labels = {r.object_label for r in rows if r.object_type == "actualité"}
    assert labels == {"De la ville"}


def test_export_refuses_an_unbounded_period():
    with pytest.raises(Exception, match="366"):
        call_command("audit_export", since="2020-01-01", until="2026-01-01")


def test_no_history_table_holds_resident_data():
    """GDPR: devices, residents' places and interactions are never historised, and no
    history table points at a device (erasure stays complete, tests/residents)."""
    apps_of_history = {m.instance_type._meta.app_label for m in history_models()}
    assert apps_of_history <= {"core", "news", "works", "events", "notifications"}
    for model in history_models():
        for field in model._meta.get_fields():
            assert not (isinstance(field, models.ForeignKey) and field.related_model is Device)


def test_erasing_a_resident_leaves_nothing_about_them_in_the_trail(city, superuser):
    from apps.notifications.services import device_test_push
    from tests.residents.factories import make_resident

    resident = make_resident(push_token="fcm-" + "t" * 60)
    device_pk = resident.device.pk
    device_test_push(device=resident.device, user=superuser)

    response = resident.client.delete("/api/v1/me/")

    assert response.status_code == 204
    assert not Device.objects.filter(pk=device_pk).exists()
    needle = f"test:{device_pk}:"
    for row in trail_rows(_whole_day()):
        assert needle not in row.new and needle not in row.old


def test_bulk_loaded_rows_have_a_default_actor(city):
    """COPY loaders (bench city) write history rows nowhere; a history row inserted in SQL
    gets the column defaults (``db_default``)."""
    user = UserFactory()
    assert Membership.history.model._meta.get_field("history_actor").db_default == ""
    Membership.objects.create(user=user, organization=city)
    assert Membership.history.get().history_actor == "système"
