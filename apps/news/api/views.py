"""Views of news: the content ViewSet wired to news' serializers, filters and services."""

from __future__ import annotations

from apps.core.api.content_schema import content_viewset_schema
from apps.core.api.filters import ContentFilterSet, ordering_filter
from apps.core.api.viewsets import ContentViewSet
from apps.news.api.serializers import (
    NewsDetailSerializer,
    NewsListItemSerializer,
    NewsWriteSerializer,
)
from apps.news.models import News
from apps.news.selectors import news_detail, news_list
from apps.news.services import news_apply


class NewsFilterSet(ContentFilterSet):
    ordering = ordering_filter(["publish_at", "updated_at", "distance"], "-publish_at")

    class Meta(ContentFilterSet.Meta):
        model = News


@content_viewset_schema(
    type_code="news",
    label="News",
    list_serializer=NewsListItemSerializer,
    detail_serializer=NewsDetailSerializer,
    write_serializer=NewsWriteSerializer,
    list_example={
        "type": "news",
        "id": 42,
        "title": "Fermeture de la piscine Garibaldi",
        "summary": "Vidange annuelle du 3 au 9 mars.",
        "geometry": {"type": "Point", "coordinates": [4.8512, 45.7533]},
        "category": {"slug": "sport", "name": "Sport", "colour": "#1f6feb", "icon": "pool"},
        "organization": {"slug": "ville", "name": "Ville de Lyonnay"},
        "urgency": "info",
        "publish_at": "2026-03-01T08:00:00+01:00",
        "updated_at": "2026-03-01T08:00:00+01:00",
        "image": None,
        "url": "http://127.0.0.1:8000/api/v1/news/42/",
        "distance_m": 350,
    },
    write_example={
        "title_fr": "Fermeture de la piscine Garibaldi",
        "title_en": "Garibaldi pool closed",
        "summary_fr": "Vidange annuelle du 3 au 9 mars.",
        "category": "sport",
        "geometry": {"type": "Point", "coordinates": [4.8512, 45.7533]},
        "status": "published",
        "urgency": "info",
        "links": [{"title_fr": "Horaires", "url": "https://ville.example/piscines"}],
    },
)
class NewsViewSet(ContentViewSet):
    """News articles of the city and its partners."""

    model = News
    list_serializer_class = NewsListItemSerializer
    detail_serializer_class = NewsDetailSerializer
    write_serializer_class = NewsWriteSerializer
    filterset_class = NewsFilterSet
    list_selector = staticmethod(news_list)
    detail_selector = staticmethod(news_detail)
    apply_service = staticmethod(news_apply)
    apply_item = "news"
