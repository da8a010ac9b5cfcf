"""news_apply: an article and its links, created and updated through one service."""

from __future__ import annotations

import pytest

from apps.core.models import Status
from apps.news.models import News
from apps.news.services import news_apply

pytestmark = pytest.mark.django_db


def _links(*titles):
    return [{"title_fr": t, "url": f"https://ville.example/{t.lower()}"} for t in titles]


def test_news_apply_creates_an_article_with_its_links_in_order(city, mobility):
    news = news_apply(
        data={"title_fr": "Piscines", "category": mobility, "links": _links("Horaires", "Tarifs")},
        organization=city,
    )

    stored = News.objects.get(pk=news.pk)
    assert stored.status == Status.DRAFT and stored.organization == city
    assert list(stored.links.values_list("title_fr", "position")) == [
        ("Horaires", 0),
        ("Tarifs", 1),
    ]


def test_news_apply_keeps_links_unless_given_and_replaces_them_when_given(city, mobility):
    news = news_apply(
        data={"title_fr": "Piscines", "category": mobility, "links": _links("Horaires")},
        organization=city,
    )

    news_apply(news=news, data={"summary_fr": "Nouveau"})
    assert list(news.links.values_list("title_fr", flat=True)) == ["Horaires"]

    news_apply(news=news, data={"links": _links("Plan")})
    assert list(news.links.values_list("title_fr", flat=True)) == ["Plan"]


def test_news_apply_publishes_when_asked(city, mobility):
    news = news_apply(
        data={"title_fr": "Piscines", "category": mobility, "status": Status.PUBLISHED},
        organization=city,
    )

    assert news.status == Status.PUBLISHED and news.published_at is not None
