"""``GET /api/v1/feed/``: anonymous and personal feeds, true reasons, hidden items, consent."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Urgency
from apps.core.registry import content_models
from apps.recommend.models import Interaction
from apps.residents.models import Place
from tests.factories import AreaFactory, CategoryFactory, square
from tests.recommend.feed_support import (
    URL,
    add_place,
    alert,
    at,
    consenting,
    distance_m,
    event,
    expire,
    follow_area,
    follow_category,
    interact,
    news,
    read_all,
    refs,
    snapped,
    works,
)
from tests.residents.factories import make_resident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("model_dir")]

DISTANCE = re.compile(r"(< 50 m|\d+ m|\d+[.,]\d km)")


def metres(text: str) -> float:
    """The distance a reason text shows, in metres (``< 50 m`` reads as 0)."""
    shown = DISTANCE.search(text).group(1)
    if shown.startswith("<"):
        return 0.0
    if shown.endswith("km"):
        return float(shown[:-3].replace(",", ".")) * 1000
    return float(shown[:-2])


def check_reasons(body: dict, *, places=(), point=None, categories=(), areas=()) -> int:
    """Assert that every reason of every item states a true fact; return how many were checked.

    Distances are checked against PostGIS on the real geometry, the ground truth.
    """
    checked = 0
    now = timezone.now()
    for item in body["results"]:
        ref = (item["type"], item["id"])
        model = content_models()[ref[0]]
        row = model.objects.get(pk=ref[1])
        for reason in item["reasons"]:
            code, text = reason["code"], reason["text"]
            checked += 1
            if code == "near_place":
                named = [p for p in places if text.endswith(p.display)]
                assert named, text
                place = named[0]
                d = distance_m(ref, place.location)
                assert d is not None and d <= place.radius_m, (text, d)
                assert abs(metres(text) - d) <= max(10.0, 0.05 * d), (text, d)
            elif code == "near_you":
                d = distance_m(ref, point)
                assert point is not None and d is not None and d <= 2000, (text, d)
                assert abs(metres(text) - d) <= max(10.0, 0.05 * d), (text, d)
            elif code == "urgent":
                assert row.urgency >= Urgency.IMPORTANT
            elif code == "follows_category":
                assert row.category_id in categories
            elif code == "follows_area":
                assert set(row.areas.values_list("pk", flat=True)) & set(areas)
            elif code == "city_wide":
                assert row.geometry is None
            elif code == "recent":
                assert now - row.publish_at <= timedelta(hours=48)
            elif code == "starts_soon":
                assert ref[0] == "events"
                assert row.last_end_at > now and row.start_at <= now + timedelta(days=8)
            elif code == "active_works":
                assert ref[0] == "works" and row.start_at <= now + timedelta(days=8)
            elif code == "on_route":
                assert ref[0] == "works" and len(places) >= 2
            else:
                assert code in {"your_interests", "popular", "follows_organization"}, code
    return checked


class Named:
    """A saved place with the name its reasons show."""

    def __init__(self, place: Place, display: str):
        self.location, self.radius_m, self.display = place.location, place.radius_m, display


def test_anonymous_feed_is_ranked_around_the_point_and_explained():
    near, far = news(150), news(6000)
    city_wide = news(None)
    response = APIClient().get(URL, {"lat": at()[1], "lon": at()[0]})

    assert response.status_code == 200
    body = response.json()
    assert body["personalized"] is False and body["ranker"] == "stage1"
    order = refs(body)
    assert {("news", near.pk), ("news", far.pk), ("news", city_wide.pk)} <= set(order)
    assert order.index(("news", near.pk)) < order.index(("news", far.pk))
    first = body["results"][order.index(("news", near.pk))]
    # Measured from the request point on the grid of saved places (~100 m).
    assert first["distance_m"] == pytest.approx(distance_m(("news", near.pk), snapped()), abs=1)
    assert {"score", "reasons", "title", "url", "category", "geometry"} <= set(first)
    assert any(r["code"] == "near_you" for r in first["reasons"])
    assert check_reasons(body, point=snapped()) > 0
    assert response["Cache-Control"] == "private, no-store"


def test_a_personal_feed_follows_the_places_without_lat_lon():
    resident = consenting()
    home = add_place(resident, 3000, 0, radius_m=500)
    at_home, at_centre = news(3100, 100), news(0, 0)
    body = resident.client.get(URL).json()

    assert body["personalized"] is True
    order = refs(body)
    assert order.index(("news", at_home.pk)) < order.index(("news", at_centre.pk))
    item = body["results"][order.index(("news", at_home.pk))]
    assert "distance_m" not in item  # no request point
    assert item["reasons"][0]["code"] == "near_place"
    assert item["reasons"][0]["text"].endswith(" de Domicile")
    assert check_reasons(body, places=[Named(home, "Domicile")]) > 0


def test_near_a_place_only_within_its_radius_measured_on_the_real_geometry():
    resident = consenting()
    home = add_place(resident, 0, 0, radius_m=500)
    inside, outside = news(0, 430), news(0, 640)
    # A works line from 1.2 km away to 330 m away: its middle is far, its nearest end inside.
    line = works(geometry=None)
    type(line).objects.filter(pk=line.pk).update(
        geometry=__import__("django.contrib.gis.geos", fromlist=["LineString"]).LineString(
            at(0, -1200), at(0, -330), srid=4326
        )
    )
    body = resident.client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()
    reasons = {(i["type"], i["id"]): i["reasons"] for i in body["results"]}

    near_inside = [r for r in reasons[("news", inside.pk)] if r["code"] == "near_place"]
    assert near_inside and near_inside[0]["text"].endswith(" from Home")
    assert not [r for r in reasons[("news", outside.pk)] if r["code"] == "near_place"]
    on_line = [r for r in reasons[("works", line.pk)] if r["code"] == "near_place"]
    assert on_line, reasons[("works", line.pk)]
    truth = distance_m(("works", line.pk), home.location)
    assert truth < 500 and abs(metres(on_line[0]["text"]) - truth) <= 10
    assert check_reasons(body, places=[Named(home, "Home")]) > 0


def test_follows_history_and_language_shape_the_reasons():
    culture = CategoryFactory(slug="culture", name_fr="Culture", name_en="Arts")
    district = AreaFactory(
        slug="croix-rousse", name="Croix-Rousse", geometry=square(*at(5000, 4500), 0.02)
    )
    resident = consenting(language="en")
    follow_category(resident, culture)
    follow_area(resident, district)
    concert = event(5000, 5000, category=culture)
    other = news(5000, 4000)
    body = resident.client.get(URL).json()  # no Accept-Language: the device's language

    reasons = {(i["type"], i["id"]): i["reasons"] for i in body["results"]}
    texts = [r["text"] for r in reasons[("events", concert.pk)]]
    assert "You follow Arts" in texts or "Starts tomorrow" in texts
    assert any(r["code"] == "follows_area" for rs in reasons.values() for r in rs)
    assert check_reasons(body, categories={culture.pk}, areas={district.pk}) > 0
    french = resident.client.get(URL, HTTP_ACCEPT_LANGUAGE="fr").json()
    texts_fr = {r["text"] for i in french["results"] for r in i["reasons"]}
    assert texts_fr & {
        "Vous suivez Culture",
        "Commence demain",
        "Dans Croix-Rousse, que vous suivez",
    }
    assert ("news", other.pk) in refs(body)


def test_expired_and_finished_items_never_appear():
    resident = consenting()
    add_place(resident)
    gone = [news(100), works(200), event(300), alert(50)]
    live = news(400)
    for item in gone:
        expire(item)
    hidden = {(i.type_code, i.pk) for i in gone}

    for client, query in ((APIClient(), {"lat": at()[1], "lon": at()[0]}), (resident.client, {})):
        pages = read_all(client, URL + "?" + "&".join(f"{k}={v}" for k, v in query.items()))
        shown = {ref for page in pages for ref in refs(page)}
        assert ("news", live.pk) in shown
        assert not shown & hidden


def test_dismissed_items_and_their_near_duplicates_are_gone_for_that_resident_only():
    resident = consenting()
    add_place(resident)
    dismissed = news(100, title_fr="Fermeture de la piscine Garibaldi pour vidange annuelle")
    duplicate = news(150, title_fr="Fermeture de la piscine Garibaldi pour vidange annuelle")
    kept = news(200, title_fr="Concert au parc de la Tête d'Or")
    interact(resident, dismissed, "dismiss")

    mine = {ref for page in read_all(resident.client, URL) for ref in refs(page)}
    assert ("news", kept.pk) in mine
    assert ("news", dismissed.pk) not in mine and ("news", duplicate.pk) not in mine
    everyone = refs(APIClient().get(URL, {"lat": at()[1], "lon": at()[0]}).json())
    assert {("news", dismissed.pk), ("news", duplicate.pk)} <= set(everyone)


def test_active_alerts_about_the_resident_are_pinned_first():
    resident = consenting()
    add_place(resident, radius_m=800)
    for k in range(12):
        news(50 + 10 * k, urgency=Urgency.IMPORTANT)
    old_alert = alert(600, publish_at=None)
    type(old_alert).objects.filter(pk=old_alert.pk).update(
        publish_at=timezone.now() - timedelta(days=6)
    )
    far_alert = alert(9000, 9000)
    body = resident.client.get(URL).json()

    first = body["results"][0]
    assert (first["type"], first["id"]) == ("news", old_alert.pk)
    assert first["reasons"][0] == {"code": "urgent", "text": "Alerte"}
    assert ("news", far_alert.pk) != refs(body)[1]  # not about them: not pinned


def test_without_consent_the_feed_is_not_personal_and_nothing_is_logged():
    culture = CategoryFactory(slug="culture")
    resident = make_resident()  # personalization not accepted
    add_place(resident, 3000, 0)
    follow_category(resident, culture)
    items = [news(3000, 0, category=culture), news(0, 0), event(-2000, 0), news(None)]

    mine = resident.client.get(URL).json()
    anonymous = APIClient().get(URL).json()  # no point: the city-wide feed
    assert mine["personalized"] is False
    assert refs(mine) == refs(anonymous)
    assert all(r["code"] not in {"near_place", "follows_category"} for i in mine["results"]
               for r in i["reasons"])  # fmt: skip
    batch = {
        "events": [
            {
                "type": "news",
                "id": items[0].pk,
                "action": "open",
                "at": timezone.now().isoformat(),
                "context": "feed",
                "position": 0,
                "event_id": str(uuid.uuid4()),
            }
        ]
    }
    posted = resident.client.post("/api/v1/interactions/", batch, format="json")
    assert posted.status_code == 202 and posted.json()["logged"] is False
    assert not Interaction.objects.exists()


def test_the_feed_itself_records_nothing_even_with_consent():
    resident = consenting()
    add_place(resident)
    news(100)
    assert resident.client.get(URL).status_code == 200
    assert not Interaction.objects.exists()


def test_callers_of_one_grid_cell_share_a_non_personal_snapshot_for_a_minute():
    item = news(100)
    lon, lat = at()
    first = APIClient().get(URL, {"lat": lat, "lon": lon}).json()
    nearby = APIClient().get(URL, {"lat": lat + 0.0002, "lon": lon + 0.0002}).json()
    assert refs(nearby) == refs(first)  # the same cell: the same ranking
    newer = news(50)
    refusing = make_resident()  # no consent: the shared, non-personal feed too
    assert refs(refusing.client.get(URL, {"lat": lat, "lon": lon}).json()) == refs(first)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        later = APIClient().get(URL, {"lat": lat, "lon": lon}).json()
    assert ("news", newer.pk) in refs(later) and ("news", item.pk) in refs(later)
    elsewhere = APIClient().get(URL, {"lat": lat + 0.01, "lon": lon}).json()
    assert ("news", newer.pk) in refs(elsewhere)


def test_an_unknown_token_gets_the_anonymous_feed():
    news(100)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = client.get(URL, {"lat": at()[1], "lon": at()[0]})
    assert response.status_code == 200 and response.json()["personalized"] is False
