"""The public page of every item: canonical slug, languages, 404/410 kind pages, cache, headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from apps.core.models import Tombstone
from apps.core.pages import item_page_url, page_slug
from apps.core.services import content_archive, content_delete, content_unpublish
from apps.events.services import event_cancel
from tests.api_support import published_event, published_news, published_works
from tests.factories import NewsFactory

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


def path_of(item, language: str = "fr") -> str:
    return item_page_url(item, language=language).removeprefix("http://127.0.0.1:8000")


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    settings.SITE_NAME = "Ville de Lyonnay"
    settings.SITE_CACHE_SECONDS = 300


def test_page_slug_is_slugify_of_the_french_title():
    assert page_slug("Fête de la musique à l'Hôtel de Ville", "events") == (
        "fete-de-la-musique-a-lhotel-de-ville"
    )
    assert page_slug("!!!", "news") == "news"
    long = page_slug("travaux " * 40, "works")
    assert len(long) <= 80 and not long.endswith("-")


def test_news_page_shows_the_item_in_french_with_preview_tags(client, centre):
    news = published_news(
        title_fr="Fermeture de la piscine",
        title_en="Pool closed",
        summary_fr="Vidange annuelle.",
        body_fr="La piscine ferme.\n\nRéouverture lundi.",
    )
    response = client.get(path_of(news))
    assert response.status_code == 200
    html = response.content.decode()
    assert path_of(news) == f"/news/{news.pk}-fermeture-de-la-piscine/"
    assert '<html lang="fr">' in html
    assert "<h1>Fermeture de la piscine</h1>" in html
    assert '<meta property="og:title" content="Fermeture de la piscine">' in html
    assert '<meta property="og:description" content="Vidange annuelle.">' in html
    assert f'/news/{news.pk}/map.png">' in html  # the map as the preview picture
    assert "application/ld+json" in html
    assert 'hreflang="en"' in html and f"/en/news/{news.pk}-fermeture-de-la-piscine/" in html
    assert response["Content-Language"] == "fr"
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert "<script src" not in html  # no JavaScript at all


def test_english_page_under_en_prefix_keeps_the_french_slug(client):
    news = published_news(title_fr="Fermeture de la piscine", title_en="Pool closed")
    response = client.get(f"/en/news/{news.pk}-fermeture-de-la-piscine/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "<h1>Pool closed</h1>" in html
    assert response["Content-Language"] == "en"


def test_wrong_or_missing_slug_redirects_permanently_to_the_canonical_page(client):
    news = published_news(title_fr="Nouveau marché")
    for wrong in (f"/news/{news.pk}-ancien-titre/", f"/news/{news.pk}/"):
        response = client.get(wrong)
        assert response.status_code == 301
        assert response["Location"] == f"/news/{news.pk}-nouveau-marche/"
    response = client.get(f"/en/news/{news.pk}-x/")
    assert response["Location"] == f"/en/news/{news.pk}-nouveau-marche/"


def test_draft_and_scheduled_items_are_404_without_their_content(client):
    draft = NewsFactory(title_fr="Secret en préparation")
    response = client.get(f"/news/{draft.pk}-secret-en-preparation/")
    assert response.status_code == 404
    assert "Secret" not in response.content.decode()
    assert "Page introuvable" in response.content.decode()
    assert client.get("/news/999999999-rien/").status_code == 404
    assert client.get("/news/1234567890123456789-trop-long/").status_code == 404


@pytest.mark.parametrize("leave", ["archive", "unpublish", "delete", "expire"])
def test_items_that_left_the_public_set_are_410_without_their_content(client, leave, request):
    news = published_news(
        title_fr="Collecte des encombrants",
        summary_fr="Mardi matin",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    path = path_of(news)
    assert client.get(path).status_code == 200  # now cached, until the expiry at most
    if leave == "archive":
        content_archive(item=news)
    elif leave == "unpublish":
        content_unpublish(item=news)
    elif leave == "delete":
        content_delete(item=news)
        assert Tombstone.objects.filter(item_type="news", item_id=news.pk).exists()
    else:
        traveller = time_machine.travel(timezone.now() + timedelta(hours=2), tick=False)
        traveller.start()
        request.addfinalizer(traveller.stop)
    response = client.get(path)
    assert response.status_code == 410
    html = response.content.decode()
    assert "Collecte" not in html and "Mardi matin" not in html
    assert "Contenu retiré" in html
    assert client.get(f"/news/{news.pk}/map.png").status_code == 410


def test_ended_event_is_410(client):
    event = published_event(title_fr="Brocante")
    type(event).objects.filter(pk=event.pk).update(last_end_at=timezone.now() - timedelta(hours=1))
    event.occurrences.update(
        start_at=timezone.now() - timedelta(hours=3), end_at=timezone.now() - timedelta(hours=1)
    )
    assert client.get(path_of(event)).status_code == 410


def test_event_page_has_dates_ical_link_and_cancellation(client, culture):
    event = published_event(title_fr="Concert au parc", category=culture, is_free=True)
    html = client.get(path_of(event)).content.decode()
    assert f"/api/v1/events/{event.pk}/ical/" in html
    assert "Gratuit" in html
    event_cancel(event=event)
    html = client.get(path_of(event)).content.decode()
    assert "Annulé" in html
    assert "EventCancelled" in html


def test_works_page_shows_an_accessible_inline_map_with_district_outlines(client, centre):
    works = published_works(title_fr="Réfection rue Garibaldi", road_names=["rue Garibaldi"])
    html = client.get(path_of(works)).content.decode()
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "rue Garibaldi" in svg  # the text alternative says where
    assert ">Centre</text>" in svg  # the district outline, labelled
    assert "SpecialAnnouncement" in html


def test_map_png_is_a_real_picture(client, centre):
    works = published_works(title_fr="Réfection rue Garibaldi")
    response = client.get(f"/works/{works.pk}/map.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    from io import BytesIO

    from PIL import Image

    picture = Image.open(BytesIO(response.content))
    assert picture.size == (1200, 630)
    # Not a blank picture: the item's red and the district's outline are drawn.
    colours = {colour for _count, colour in picture.getcolors(1_000_000)}
    assert (0xB3, 0x26, 0x1E) in colours


def test_page_is_cached_until_a_write_and_answers_304_to_its_etag(
    client, django_assert_num_queries
):
    news = published_news(title_fr="Marché de Noël")
    path = path_of(news)
    first = client.get(path)
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = client.get(path)
    assert again["X-Cache"] == "hit"
    assert again.content == first.content
    with django_assert_num_queries(0):
        revalidated = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert revalidated.status_code == 304
    content_unpublish(item=news)
    assert client.get(path).status_code == 410  # the write invalidated the cached page


def test_page_miss_runs_a_bounded_number_of_queries(client, centre, django_assert_num_queries):
    event = published_event(title_fr="Conte pour enfants")
    # item with venue, category, organization + areas + occurrences + district outlines
    # + the related refs (one UNION ALL; none here, so nothing more to load).
    with django_assert_num_queries(5):
        assert client.get(path_of(event)).status_code == 200


@override_settings(SITE_CACHE_SECONDS=0)
def test_tracking_parameters_do_not_change_the_page(client):
    news = published_news(title_fr="Vide-grenier")
    assert client.get(path_of(news) + "?utm_source=x&fbclid=y").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/news/0-rien/",
        "/news/-1-x/",
        "/news/12%00-x/",
        "/news/99999999999999999999-x/",
        "/works/1-" + "x" * 5000 + "/",
        "/events/abc-x/",
        "/en/news/1-%F0%9F%8E%89/",
        "/nouvelles/1-x/",
    ],
)
def test_malformed_page_addresses_are_quick_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.content.decode()
    language = "en" if path.startswith("/en/") else "fr"
    title = {"fr": "Page introuvable", "en": "Page not found"}[language]
    assert f'<html lang="{language}">' in html and title in html  # the kind page
    assert '<p class="site-name">Ville de Lyonnay</p>' in html


def test_an_id_with_leading_zeros_redirects_to_the_canonical_page(client):
    news = published_news(title_fr="Marché")
    response = client.get(f"/news/000{news.pk}-marche/")
    assert response.status_code == 301
    assert response["Location"] == f"/news/{news.pk}-marche/"


def test_home_lists_news_works_and_events_with_feeds(client, django_assert_num_queries):
    news = published_news(title_fr="Nouveau marché")
    works = published_works(title_fr="Chantier quai")
    event = published_event(title_fr="Bal du 14 juillet")
    with django_assert_num_queries(3):  # one per section
        response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    for item in (news, works, event):
        assert f'href="{item_page_url(item)}"' in html
    assert 'type="application/atom+xml"' in html and "/widgets/" in html
    english = client.get("/en/").content.decode()
    assert '<html lang="en">' in english
    assert item_page_url(news, language="en") in english


def test_page_shows_related_items_with_why_and_forgets_one_that_ends(
    client, django_assert_num_queries
):
    news = published_news(title_fr="Fermeture de la piscine Garibaldi", summary_fr="Vidange")
    works = published_works(
        title_fr="Réfection du bassin de la piscine Garibaldi",
        summary_fr="Chantier",
        end_at=timezone.now() + timedelta(hours=2),
    )
    path = path_of(news)

    page = client.get(path).content.decode()

    assert "À voir aussi" in page
    assert f'href="{item_page_url(works)}"' in page
    assert "Réfection du bassin de la piscine Garibaldi" in page
    english = client.get(path_of(news, "en")).content.decode()
    assert "See also" in english and f'href="{item_page_url(works, language="en")}"' in english
    # The cached page ends when the related works do: never an item that is over.
    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        later = client.get(path)
    assert later["X-Cache"] == "miss"
    assert "Réfection du bassin" not in later.content.decode()


def test_a_write_to_another_type_refreshes_the_related_items(client):
    news = published_news(title_fr="Fête de la musique place Bellecour")
    path = path_of(news)
    assert "À voir aussi" not in client.get(path).content.decode()
    published_event(title_fr="Fête de la musique : scène Bellecour")
    page = client.get(path)
    assert page["X-Cache"] == "miss"
    assert "scène Bellecour" in page.content.decode()
