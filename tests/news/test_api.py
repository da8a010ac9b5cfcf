"""News API: detail fields (links, attachments, image, areas) and publishing with links."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.text import slugify
from rest_framework.test import APIClient

from apps.news.models import News, NewsAttachment, NewsLink
from tests.api_support import key_client, published_news

pytestmark = pytest.mark.django_db


def test_detail_has_body_areas_links_attachments_and_image(mobility, centre, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    news = published_news(category=mobility, body_fr="Le texte complet.", image_credit="Ville")
    news.image.save("piscine.jpg", ContentFile(b"\xff\xd8\xff"), save=True)
    News.objects.filter(pk=news.pk).update(image_alt_fr="La piscine vide")
    NewsLink.objects.create(news=news, title_fr="Horaires", url="https://ville.example/h")
    attachment = NewsAttachment(news=news, title="Arrêté", content_type="application/pdf")
    attachment.file.save("arrete.pdf", ContentFile(b"%PDF-1.4"), save=True)

    data = APIClient().get(f"/api/v1/news/{news.pk}/").json()

    assert data["type"] == "news" and data["body"] == "Le texte complet."
    assert data["areas"] == [{"slug": "centre", "name": "Centre", "kind": "district"}]
    assert data["links"] == [{"title": "Horaires", "url": "https://ville.example/h"}]
    assert data["attachments"][0]["title"] == "Arrêté"
    assert data["attachments"][0]["url"].startswith(f"{settings.SITE_URL}/media/attachments/")
    assert data["image"]["url"].startswith(f"{settings.SITE_URL}/media/content/")
    assert data["image"]["alt"] == "La piscine vide" and data["image"]["credit"] == "Ville"
    assert data["url"] == f"{settings.SITE_URL}/api/v1/news/{news.pk}/"


def test_list_item_fields(mobility, city):
    news = published_news(category=mobility, organization=city, urgency=1)
    item = APIClient().get("/api/v1/news/").json()["results"][0]
    assert set(item) == {
        "type",
        "id",
        "title",
        "summary",
        "geometry",
        "category",
        "organization",
        "urgency",
        "publish_at",
        "updated_at",
        "image",
        "url",
        "share_url",
    }
    # The public page (apps.site): what the app shares.
    assert item["share_url"] == f"{settings.SITE_URL}/news/{news.pk}-{slugify(news.title_fr)}/"
    assert item["category"] == {
        "slug": "mobilite",
        "name": "Mobilité",
        "colour": "#1f6feb",
        "icon": "",
    }
    assert item["organization"] == {"slug": "ville", "name": "Ville de Lyonnay"}
    assert item["urgency"] == "important" and item["id"] == news.pk


def test_links_are_written_and_replaced(city, mobility):
    client = key_client(city)
    created = client.post(
        "/api/v1/news/",
        {
            "title_fr": "Inscriptions",
            "category": "mobilite",
            "links": [
                {"title_fr": "Formulaire", "title_en": "Form", "url": "https://ville.example/f"},
                {"title_fr": "Tarifs", "url": "https://ville.example/t"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201
    news = News.objects.get(pk=created.json()["id"])
    assert list(news.links.values_list("title_fr", "position")) == [
        ("Formulaire", 0),
        ("Tarifs", 1),
    ]
    assert created.json()["links"][0] == {
        "title_fr": "Formulaire",
        "title_en": "Form",
        "url": "https://ville.example/f",
    }

    client.patch(f"/api/v1/news/{news.pk}/", {"links": []}, format="json")
    assert not news.links.exists()
