"""Related items of a detail: nearby, same organiser, similar text; explained, public, cheap."""

from __future__ import annotations

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from apps.core.models import Status
from apps.recommend.related import related_items, text_query
from tests.factories import OrganizationFactory
from tests.recommend import feed_support
from tests.recommend.feed_support import expire

pytestmark = pytest.mark.django_db


# The factories' summary ("Résumé") is the same for every item: it would make them all
# "similar text"; here an item's summary is its title.
def news(*args, **fields):
    fields.setdefault("summary_fr", fields.get("title_fr", ""))
    return feed_support.news(*args, **fields)


def works(*args, **fields):
    fields.setdefault("summary_fr", fields.get("title_fr", ""))
    return feed_support.works(*args, **fields)


def event(*args, **fields):
    fields.setdefault("summary_fr", fields.get("title_fr", ""))
    return feed_support.event(*args, **fields)


def url(item) -> str:
    return f"/api/v1/{item.type_code}/{item.pk}/related/"


def get(item, **headers):
    return APIClient().get(url(item), **headers)


def refs(body) -> list[tuple[str, int]]:
    return [(entry["type"], entry["id"]) for entry in body["results"]]


def reasons(body) -> dict[tuple[str, int], list[tuple[str, str]]]:
    return {
        (e["type"], e["id"]): [(r["code"], r["text"]) for r in e["reasons"]]
        for e in body["results"]
    }


def test_nearby_items_of_every_type_come_nearest_first_with_their_distance():
    city, other = OrganizationFactory(name="Ville"), OrganizationFactory(name="Métropole")
    shown = news(0, 0, organization=city, title_fr="Fête des voisins")
    near_works = works(300, 0, organization=other, title_fr="Réfection de chaussée")
    near_event = event(0, 700, organization=other, title_fr="Concert de jazz")
    news(6000, 0, organization=other, title_fr="Marché bio")  # beyond RELATED_NEARBY_M

    response = get(shown, HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    body = response.json()
    assert refs(body) == [("works", near_works.pk), ("events", near_event.pk)]
    assert reasons(body)[("works", near_works.pk)] == [("nearby", "À 300 m")]
    assert reasons(body)[("events", near_event.pk)] == [("nearby", "À 700 m")]
    # The list fields of each type, as in the lists and the feed.
    first = body["results"][0]
    assert first["title"] == "Réfection de chaussée"
    assert first["url"].endswith(f"/api/v1/works/{near_works.pk}/")


def test_same_organiser_items_are_the_latest_and_say_who():
    city, other = OrganizationFactory(name="Ville de Lyonnay"), OrganizationFactory()
    shown = news(None, organization=city, title_fr="Budget participatif")  # city-wide
    older = news(None, organization=city, title_fr="Collecte des sapins")
    newer = news(None, organization=city, title_fr="Inscriptions scolaires")
    news(None, organization=other, title_fr="Horaires piscine")

    body = get(shown, HTTP_ACCEPT_LANGUAGE="en").json()

    assert refs(body) == [("news", newer.pk), ("news", older.pk)]
    assert reasons(body)[("news", newer.pk)] == [
        ("same_organization", "Same organiser: Ville de Lyonnay")
    ]


def test_similar_text_finds_the_same_topic_elsewhere():
    a, b, c = OrganizationFactory(), OrganizationFactory(), OrganizationFactory()
    shown = news(None, organization=a, title_fr="Fermeture de la piscine Garibaldi")
    similar = event(9000, 0, organization=b, title_fr="Réouverture de la piscine Garibaldi")
    news(None, organization=c, title_fr="Collecte des encombrants")

    body = get(shown, HTTP_ACCEPT_LANGUAGE="fr").json()

    assert refs(body) == [("events", similar.pk)]
    assert reasons(body)[("events", similar.pk)] == [("similar_text", "Sujet proche")]


def test_an_item_related_twice_shows_both_reasons_once():
    city = OrganizationFactory(name="Ville")
    shown = news(0, 0, organization=city, title_fr="Travaux rue Garibaldi")
    both = works(200, 0, organization=city, title_fr="Chantier rue Garibaldi")

    body = get(shown, HTTP_ACCEPT_LANGUAGE="fr").json()

    assert refs(body) == [("works", both.pk)]
    assert reasons(body)[("works", both.pk)] == [
        ("nearby", "À 200 m"),
        ("same_organization", "Même organisateur : Ville"),
    ]


def test_never_the_item_itself_nor_an_expired_finished_or_unpublished_item():
    city = OrganizationFactory()
    shown = news(0, 0, organization=city, title_fr="Piscine Garibaldi")
    kept = news(100, 0, organization=city, title_fr="Piscine Garibaldi horaires")
    gone = [
        news(50, 0, organization=city, title_fr="Piscine Garibaldi fermée"),
        works(60, 0, organization=city, title_fr="Piscine Garibaldi chantier"),
        event(70, 0, organization=city, title_fr="Piscine Garibaldi fête"),
    ]
    for item in gone:
        expire(item)
    draft = news(80, 0, organization=city, title_fr="Piscine Garibaldi brouillon")
    type(draft).objects.filter(pk=draft.pk).update(status=Status.DRAFT)

    assert refs(get(shown).json()) == [("news", kept.pk)]


def test_at_most_the_configured_number_taking_each_source_in_turn():
    city, other = OrganizationFactory(), OrganizationFactory()
    shown = news(0, 0, organization=city, title_fr="Marché de Noël place Bellecour")
    nearby = [news(100 * k, 0, organization=other) for k in range(1, 6)]
    latest = news(None, organization=city, title_fr="Vœux du maire")
    similar = news(None, organization=other, title_fr="Marché de Noël de la Croix-Rousse")

    with override_settings(RELATED_ITEMS=3):
        body = get(shown).json()

    assert refs(body) == [("news", nearby[0].pk), ("news", latest.pk), ("news", similar.pk)]


def test_related_costs_three_queries(django_assert_num_queries):
    city = OrganizationFactory()
    shown = news(0, 0, organization=city, title_fr="Fermeture de la piscine Garibaldi")
    for k in range(6):
        works(100 * (k + 1), 0, organization=city, title_fr=f"Piscine Garibaldi lot {k}")
        event(0, 100 * (k + 1), title_fr=f"Fête de la piscine {k}")
    get(shown)  # renders and stores the related items' fragments

    # The item, the related refs (one UNION ALL), their versions (fragments current).
    with django_assert_num_queries(3):
        response = get(shown)

    assert response.status_code == 200
    assert len(response.json()["results"]) == 4
    assert response["X-Fragments"] == "4/4"


def test_etag_revalidation():
    shown = news(0, 0, title_fr="Fête des voisins")
    works(100, 0)
    first = get(shown)

    again = get(shown, HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert "Accept-Language" in first["Vary"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/news/999999/related/",  # no such item
        "/api/v1/news/99999999999999999999999/related/",  # beyond bigint
    ],
)
def test_a_missing_item_is_a_404(path):
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_an_unpublished_item_has_no_related_items():
    shown = news(0, 0)
    type(shown).objects.filter(pk=shown.pk).update(status=Status.DRAFT)
    assert get(shown).status_code == 404


def test_the_text_query_keeps_significant_words_only():
    item = type("Item", (), {})()
    item.title_fr = "Fermeture de la piscine Garibaldi le 12 mai"
    item.title_en = ""
    item.summary_fr = "Une vidange annuelle du bassin olympique"
    item.summary_en = None
    assert text_query(item) == (
        "fermeture or piscine or garibaldi or olympique or annuelle or vidange or bassin"
    )


def test_the_selector_returns_reasons_and_distances():
    city = OrganizationFactory()
    shown = works(0, 0, organization=city, title_fr="Réseau de chaleur")
    near = news(400, 0, organization=city, title_fr="Réunion publique")

    (related,) = related_items(shown)

    assert (related.type_code, related.id) == ("news", near.pk)
    assert related.reasons == ["nearby", "same_organization"]
    assert related.distance_m == pytest.approx(400 - 120, abs=2)  # from the line's east end
