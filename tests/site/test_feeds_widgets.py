"""Atom feeds per filter, the embeddable widgets and the app-link files."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import pytest
from django.test import override_settings

from apps.core.models import Urgency
from apps.core.services import content_unpublish
from tests.api_support import published_event, published_news, published_works
from tests.factories import AreaFactory, square

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://ville.example"
    settings.SITE_NAME = "Ville de Lyonnay"
    settings.SITE_WIDGET_ORIGINS = ["https://www.ville.example"]


def entries(response) -> list[dict[str, str]]:
    root = ElementTree.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return [
        {
            "title": entry.find(f"{ATOM}title").text,
            "link": entry.find(f"{ATOM}link").get("href"),
            "category": entry.find(f"{ATOM}category").get("term"),
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


def test_atom_feed_per_type_category_and_area(client, culture, mobility, centre):
    far = AreaFactory(slug="loin", name="Loin", geometry=square(5.5, 46.5, 0.01))
    concert = published_event(title_fr="Concert", category=culture)
    published_news(title_fr="Bus dévié", category=mobility)
    published_works(title_fr="Chantier", category=mobility)
    response = client.get("/feeds/all.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    assert {entry["title"] for entry in entries(response)} == {"Concert", "Bus dévié", "Chantier"}
    events = entries(client.get("/feeds/events.atom"))
    assert events == [
        {
            "title": "Concert",
            "link": f"https://ville.example/events/{concert.pk}-concert/",
            "category": "culture",
        }
    ]
    assert [e["title"] for e in entries(client.get("/feeds/all.atom?category=mobilite"))] == [
        "Chantier",
        "Bus dévié",
    ]
    assert len(entries(client.get("/feeds/all.atom?area=centre"))) == 3
    assert entries(client.get(f"/feeds/all.atom?area={far.slug}")) == []
    english = entries(client.get("/en/feeds/events.atom"))
    assert english[0]["link"] == f"https://ville.example/en/events/{concert.pk}-concert/"


@pytest.mark.parametrize(
    "query",
    [
        "?categorie=culture",
        "?category=inconnue",
        "?area=nulle-part",
        "?category=a&category=b",
        "?category=" + ",".join(f"c{n}" for n in range(25)),
        "?area=%3Cscript%3E",
    ],
)
def test_feed_rejects_bad_parameters_with_a_clear_400(client, query):
    response = client.get("/feeds/all.atom" + query)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().strip()


def test_feed_drops_an_item_once_withdrawn(client):
    news = published_news(title_fr="Avis")
    assert len(entries(client.get("/feeds/news.atom"))) == 1
    content_unpublish(item=news)
    assert entries(client.get("/feeds/news.atom")) == []


def test_feed_queries_do_not_grow_with_the_number_of_items(client, django_assert_num_queries):
    for n in range(5):
        published_news(title_fr=f"Info {n}")
        published_event(title_fr=f"Fête {n}")
    with django_assert_num_queries(3):  # one per type
        assert client.get("/feeds/all.atom").status_code == 200


def test_agenda_widget_is_embeddable_cached_and_plain_links(client, culture):
    concert = published_event(title_fr="Concert", category=culture)
    response = client.get("/widgets/agenda/?category=culture&limit=5")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="https://ville.example/events/{concert.pk}-concert/"' in html
    assert '<base target="_top">' in html
    assert "<script" not in html
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://www.ville.example" in policy
    assert "default-src 'none'" in policy
    assert response["Cache-Control"] == "public, max-age=60"
    again = client.get(
        "/widgets/agenda/?category=culture&limit=5", HTTP_IF_NONE_MATCH=response["ETag"]
    )
    assert again.status_code == 304


def test_widgets_reject_bad_parameters(client):
    for url in (
        "/widgets/agenda/?limit=0",
        "/widgets/agenda/?limit=1000",
        "/widgets/agenda/?couleur=rouge",
        "/widgets/alerts/?level=urgent",
        "/widgets/works/?area=inconnu",
    ):
        assert client.get(url).status_code == 400, url


def test_works_widget_draws_a_map_linking_to_each_works_page(client, centre):
    works = published_works(title_fr="Réfection rue Garibaldi")
    html = client.get("/widgets/works/").content.decode()
    link = f"https://ville.example/works/{works.pk}-refection-rue-garibaldi/"
    assert f'<a href="{link}" target="_top">' in html  # in the SVG
    assert f'<a href="{link}">' in html  # and as a plain link


def test_alert_banner_shows_only_urgent_items(client):
    published_news(title_fr="Information ordinaire")
    alert = published_news(title_fr="Inondation quai Gailleton", urgency=Urgency.ALERT)
    html = client.get("/widgets/alerts/").content.decode()
    assert "Inondation quai Gailleton" in html and "Information ordinaire" not in html
    content_unpublish(item=alert)
    html = client.get("/widgets/alerts/").content.decode()
    assert "Aucune alerte en cours" in html


def test_pages_other_than_widgets_refuse_to_be_framed(client):
    news = published_news(title_fr="Avis")
    response = client.get(f"/news/{news.pk}-avis/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    index = client.get("/widgets/")
    assert index.status_code == 200
    assert (
        "&lt;iframe src=&quot;https://ville.example/widgets/agenda/&quot;"
        in (index.content.decode())
        or '&lt;iframe src="https://ville.example/widgets/agenda/"' in index.content.decode()
    )


def test_app_link_files_come_from_settings(client):
    assert client.get("/.well-known/assetlinks.json").status_code == 404
    assert client.get("/.well-known/apple-app-site-association").status_code == 404
    with override_settings(
        SITE_ANDROID_PACKAGE="fr.ville.quartier",
        SITE_ANDROID_CERT_FINGERPRINTS=["AB:CD"],
        SITE_IOS_APP_IDS=["TEAM123.fr.ville.quartier"],
    ):
        android = client.get("/.well-known/assetlinks.json")
        assert android["Content-Type"].startswith("application/json")
        assert json.loads(android.content) == [
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": "fr.ville.quartier",
                    "sha256_cert_fingerprints": ["AB:CD"],
                },
            }
        ]
        apple = client.get("/.well-known/apple-app-site-association")
        assert apple.status_code == 200
        details = json.loads(apple.content)["applinks"]["details"]
        assert details[0]["appIDs"] == ["TEAM123.fr.ville.quartier"]
        assert {"/": "/events/*"} in details[0]["components"]
