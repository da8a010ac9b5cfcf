"""Full-text search ``q``: French and English stemming, accents, ranking, GIN index, SpatiaLite."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Category, Organization, Status
from apps.core.search import search
from apps.news.models import News
from tests.factories import NewsFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/news/"


def _public(**fields) -> News:
    fields.setdefault("publish_at", timezone.now() - timedelta(hours=1))
    return NewsFactory(status=Status.PUBLISHED, **fields)


def _found(q: str, **params) -> list[int]:
    response = APIClient().get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_french_query_finds_french_text_by_stem():
    works = _public(title_fr="Travaux de voirie rue Garibaldi")
    _public(title_fr="Marché de Noël")

    assert _found("travaux") == [works.pk]
    assert _found("Travaux") == [works.pk]
    assert _found("voiries") == [works.pk]  # plural → stem "voir"


def test_plural_query_finds_singular_text_which_a_substring_search_would_miss():
    concert = _public(title_fr="Concert au parc de la Tête d'Or")
    _public(title_fr="Conférence")

    assert _found("concerts") == [concert.pk]


def test_french_stemming_keeps_travail_and_travaux_apart():
    # The French snowball stemmer reduces "travaux" to "traval" and "travail" to "travail":
    # a search for one does not find the other (a synonym dictionary would be needed).
    _public(title_fr="Travaux de voirie")
    assert _found("travail") == []


def test_english_query_finds_english_text():
    bridge = _public(title_fr="Réfection du pont", title_en="Bridge repairs")
    _public(title_fr="Fête de la musique", title_en="Music day")

    assert _found("repairing bridges") == [bridge.pk]
    assert _found("réparations") == []  # no French word of it matches


def test_search_ignores_accents():
    theatre = _public(title_fr="Théâtre en plein air")
    assert _found("theatre") == [theatre.pk]
    assert _found("THÉÂTRE") == [theatre.pk]


def test_results_are_ranked_title_before_body_unless_ordering_is_given():
    in_body = _public(title_fr="Horaires d'été", body_fr="La piscine ferme plus tôt.")
    in_title = _public(
        title_fr="Fermeture de la piscine",
        publish_at=timezone.now() - timedelta(days=3),
    )

    assert _found("piscine") == [in_title.pk, in_body.pk]
    assert _found("piscine", ordering="-publish_at") == [in_body.pk, in_title.pk]


def test_web_search_syntax_never_fails():
    _public(title_fr="Concert gratuit")
    for q in ['"concert gratuit', "concert -payant", "concert or théâtre", "&&|!:*", "le la les"]:
        assert APIClient().get(URL, {"q": q}).status_code == 200, q
    assert _found("concert -gratuit") == []


def test_search_uses_the_gin_indexes_on_postgis():
    for i in range(30):
        _public(title_fr=f"Actualité {i}")
    queryset = search(News.objects.all(), "travaux")
    sql, params = queryset.query.sql_with_params()
    with connections["default"].cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "news_news_search_fr" in plan, plan
    assert "news_news_search_en" in plan, plan


@pytest.mark.django_db(databases=["default", "spatialite"])
def test_spatialite_search_matches_every_word_in_any_language():
    db = "spatialite"
    org = Organization.objects.using(db).create(slug="o", name="O")
    cat = Category.objects.using(db).create(slug="c", name_fr="C")

    def make(**fields):
        return News.objects.using(db).create(organization=org, category=cat, **fields)

    both = make(title_fr="Travaux rue Garibaldi")
    english = make(title_fr="Réfection", title_en="Garibaldi street works")
    make(title_fr="Travaux avenue Jean Jaurès")

    found = set(search(News.objects.using(db), "garibaldi").values_list("pk", flat=True))
    narrowed = search(News.objects.using(db), "TRAVAUX garibaldi").values_list("pk", flat=True)

    assert found == {both.pk, english.pk}
    assert list(narrowed) == [both.pk]
