"""Accept-Language picks French or English, falling back to the other when a text is missing."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api_support import published_news

pytestmark = pytest.mark.django_db


@pytest.fixture
def bilingual(mobility):
    return published_news(
        category=mobility,
        title_fr="Fermeture de la piscine",
        title_en="Pool closed",
        summary_fr="Vidange annuelle.",
        summary_en="",  # not translated
    )


@pytest.mark.parametrize(
    ("accept", "language", "title", "category"),
    [
        ("en", "en", "Pool closed", "Mobility"),
        ("en-GB,en;q=0.9", "en", "Pool closed", "Mobility"),
        ("fr-FR", "fr", "Fermeture de la piscine", "Mobilité"),
        ("de", "fr", "Fermeture de la piscine", "Mobilité"),  # unsupported → French
        ("", "fr", "Fermeture de la piscine", "Mobilité"),
    ],
)
def test_accept_language_picks_the_language(bilingual, accept, language, title, category):
    response = APIClient().get(f"/api/v1/news/{bilingual.pk}/", HTTP_ACCEPT_LANGUAGE=accept)

    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]
    data = response.json()
    assert data["title"] == title
    assert data["category"]["name"] == category


def test_missing_translation_falls_back_to_the_other_language(bilingual):
    english = APIClient().get("/api/v1/news/", HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]
    assert english["title"] == "Pool closed"
    assert english["summary"] == "Vidange annuelle."


def test_english_only_text_serves_french_readers_too(mobility):
    news = published_news(category=mobility, title_fr="Titre", summary_fr="", summary_en="English")
    data = APIClient().get(f"/api/v1/news/{news.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()
    assert data["summary"] == "English"
