"""CAP out: every alert we publish is a CAP 1.2 message, valid against cap12.xsd, following
our publication, update and withdrawal flow; the Atom feed lists them and links each one."""

from __future__ import annotations

import feedparser
import pytest
from django.contrib.gis.geos import Polygon
from django.test import override_settings

from apps.alerts.cap.schema import cap_errors
from apps.alerts.models import CapMessage
from apps.core.geo import WGS84
from apps.core.models import Urgency
from apps.core.services import content_archive, content_publish, content_save
from apps.works.services import works_cancel
from tests.alerts.support import alert_item, cap, commune, text, texts
from tests.factories import CENTRE_LAT, CENTRE_LON, NewsFactory, WorksFactory

pytestmark = pytest.mark.django_db


def messages(item) -> list[CapMessage]:
    return list(
        CapMessage.objects.filter(item_type=item.type_code, item_id=item.pk).order_by(
            "sent_at", "id"
        )
    )


@override_settings(SITE_URL="https://ville.example", CAP_SENDER="alertes.ville.example")
def test_cap_out_publishing_an_alert_writes_a_valid_cap_alert_with_our_mapping():
    commune()
    item = alert_item()
    content_publish(item=item)

    [message] = messages(item)
    assert cap_errors(message.document.encode()) == []
    root = cap(message.document)
    assert text(root, "cap:identifier") == message.identifier
    assert text(root, "cap:sender") == "alertes.ville.example"
    assert text(root, "cap:status") == "Actual"
    assert text(root, "cap:msgType") == "Alert"
    assert text(root, "cap:scope") == "Public"
    assert texts(root, "cap:info/cap:language") == ["fr-FR", "en-GB"]
    assert texts(root, "cap:info/cap:urgency") == ["Immediate", "Immediate"]
    assert texts(root, "cap:info/cap:severity") == ["Severe", "Severe"]
    assert texts(root, "cap:info/cap:certainty") == ["Observed", "Observed"]
    assert texts(root, "cap:info/cap:headline") == ["Crue de la Saône", "Saône flood"]
    assert texts(root, "cap:info/cap:instruction") == [
        "ne descendez pas sur les berges.",
        "keep off the banks.",
    ]
    assert texts(root, "cap:info/cap:description")[0] == (
        "Les quais bas sont fermés.\n\nLa Saône monte."
    )
    assert (
        texts(root, "cap:info/cap:web")
        == [f"https://ville.example/news/{item.pk}-crue-de-la-saone/"] * 2
    )
    # A point: a circle of CAP_POINT_RADIUS_M (200 m) around it, lat first.
    assert texts(root, "cap:info/cap:area/cap:circle")[0] == (
        f"{CENTRE_LAT:.6f},{CENTRE_LON:.6f} 0.200"
    )
    assert texts(root, "cap:info/cap:area/cap:areaDesc")[0] == "Lyon"
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:valueName")[0] == "INSEE"
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:value")[0] == "69123"


def test_cap_out_information_items_make_no_cap_and_important_ones_only_by_setting():
    info = alert_item(urgency=Urgency.INFO)
    important = alert_item(urgency=Urgency.IMPORTANT)
    content_publish(item=info)
    content_publish(item=important)
    assert messages(info) == [] and messages(important) == []
    with override_settings(CAP_INCLUDE_IMPORTANT=True):
        other = alert_item(urgency=Urgency.IMPORTANT)
        content_publish(item=other)
    [message] = messages(other)
    assert texts(cap(message.document), "cap:info/cap:severity") == ["Moderate", "Moderate"]


def test_cap_out_a_material_change_is_an_update_and_a_withdrawal_a_cancel_referencing_all():
    item = alert_item()
    content_publish(item=item)
    item.geometry = Polygon(
        (
            (CENTRE_LON, CENTRE_LAT),
            (CENTRE_LON + 0.01, CENTRE_LAT),
            (CENTRE_LON + 0.01, CENTRE_LAT + 0.01),
            (CENTRE_LON, CENTRE_LAT),
        ),
        srid=WGS84,
    )
    content_save(item=item)
    content_archive(item=item)
    content_archive(item=item)  # idempotent: no second cancel

    first, update, cancel = messages(item)
    assert [m.msg_type for m in (first, update, cancel)] == ["Alert", "Update", "Cancel"]
    for message in (first, update, cancel):
        assert cap_errors(message.document.encode()) == [], message.document
    first_ref = f"{first.sender},{first.identifier},{text(cap(first.document), 'cap:sent')}"
    update_ref = f"{update.sender},{update.identifier},{text(cap(update.document), 'cap:sent')}"
    assert text(cap(update.document), "cap:references") == first_ref
    assert text(cap(cancel.document), "cap:references") == f"{first_ref} {update_ref}"
    # The update carries the new polygon (closed ring, lat first).
    polygon, same = texts(cap(update.document), "cap:info/cap:area/cap:polygon")  # fr, en
    assert polygon == same
    pairs = polygon.split()
    assert pairs[0] == pairs[-1] == f"{CENTRE_LAT:.6f},{CENTRE_LON:.6f}"
    cancel_root = cap(cancel.document)
    assert texts(cancel_root, "cap:info/cap:responseType") == ["AllClear", "AllClear"]
    assert texts(cancel_root, "cap:info/cap:headline")[0] == "Fin d'alerte : Crue de la Saône"
    # Published again after the cancel: a fresh Alert, no references.
    content_publish(item=item)
    assert messages(item)[-1].msg_type == "Alert"
    assert text(cap(messages(item)[-1].document), "cap:references") == ""


def test_cap_out_cancelled_roadworks_cancel_their_alert_and_a_line_becomes_a_band():
    works = alert_item(factory=WorksFactory, body_fr="", body_en="")
    content_publish(item=works)
    works_cancel(works=works)
    alert, cancel = messages(works)
    assert (alert.msg_type, cancel.msg_type) == ("Alert", "Cancel")
    polygon = texts(cap(alert.document), "cap:info/cap:area/cap:polygon")[0]
    assert len(polygon.split()) >= 4
    assert texts(cap(alert.document), "cap:info/cap:category") == ["Transport", "Transport"]


def test_cap_out_a_city_wide_alert_covers_the_communes_with_their_insee_codes():
    commune()
    item = alert_item(geometry=None, title_en="")
    content_publish(item=item)
    [message] = messages(item)
    root = cap(message.document)
    assert texts(root, "cap:info/cap:language") == ["fr-FR"]  # no English title: French only
    assert len(texts(root, "cap:info/cap:area/cap:polygon")) == 1
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:value") == ["69123"]
    assert cap_errors(message.document.encode()) == []


def test_cap_out_atom_feed_parses_and_each_entry_links_its_cap_message(client):
    live = alert_item(title_fr="Alerte en cours")
    lifted = alert_item(title_fr="Alerte levée")
    drill = alert_item(title_fr="Alerte d'exercice", exercise=True)
    quiet = NewsFactory(urgency=Urgency.INFO)
    for item in (live, lifted, drill, quiet):
        content_publish(item=item)
    content_archive(item=lifted)

    response = client.get("/api/v1/feeds/alerts.cap.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    assert sorted(entry.title for entry in feed.entries) == ["Alerte en cours", "Alerte levée"]
    identifiers = set()
    for entry in feed.entries:
        [link] = [link for link in entry.links if link.type == "application/cap+xml"]
        document = client.get(link.href)
        assert document.status_code == 200
        assert document["Content-Type"].startswith("application/cap+xml")
        assert cap_errors(document.content) == []
        identifiers.add(text(cap(document.content), "cap:identifier"))
    assert identifiers == {messages(live)[-1].identifier, messages(lifted)[-1].identifier}
    assert messages(lifted)[-1].msg_type == "Cancel"
    # A conditional GET costs nothing.
    again = client.get("/api/v1/feeds/alerts.cap.atom", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_cap_out_unknown_message_is_a_404_and_unknown_parameters_a_400(client):
    assert client.get("/api/v1/feeds/alerts/nope.cap").status_code == 404
    assert client.get("/api/v1/feeds/alerts.cap.atom?x=1").status_code == 400


def test_cap_out_the_demo_citys_alerts_validate():
    from io import StringIO

    from django.core.management import call_command

    call_command("seed_demo", "--force", stdout=StringIO())
    published = CapMessage.objects.all()
    assert published.exists(), "the demo city publishes at least one alert"
    for message in published:
        assert cap_errors(message.document.encode()) == [], message.document
        root = cap(message.document)
        assert texts(root, "cap:info/cap:area/cap:geocode/cap:valueName")  # the demo's INSEE


def test_cap_out_feed_query_count_does_not_grow_with_the_alerts(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/feeds/alerts.cap.atom").status_code == 200
        return len(captured)

    content_publish(item=alert_item())
    few = queries()
    for _n in range(5):
        content_publish(item=alert_item())
    assert queries() == few <= 3  # the version aggregate, the latest message per item
