"""Views of news: the content ViewSet wired to news' serializers, filters and services."""

from __future__ import annotations

from apps.core.api.content_schema import content_viewset_schema
from apps.core.api.viewsets import ContentViewSet
from apps.news.api.filters import NewsFilterSet
from apps.news.api.schema import LIST_EXAMPLE, WRITE_EXAMPLE
from apps.news.api.serializers import (
    NewsDetailSerializer,
    NewsListItemSerializer,
    NewsWriteSerializer,
)
from apps.news.models import News
from apps.news.selectors import news_detail, news_list
from apps.news.services import news_apply


@content_viewset_schema(
    type_code="news",
    label="News",
    list_serializer=NewsListItemSerializer,
    detail_serializer=NewsDetailSerializer,
    write_serializer=NewsWriteSerializer,
    list_example=LIST_EXAMPLE,
    write_example=WRITE_EXAMPLE,
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
