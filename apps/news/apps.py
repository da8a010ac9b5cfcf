"""App configuration for news."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsConfig(AppConfig):
    name = "apps.news"
    label = "news"
    verbose_name = _("Actualités")

    def ready(self) -> None:
        from apps.core.api.items import register_list_item
        from apps.news.api.serializers import NewsListItemSerializer
        from apps.news.selectors import news_list

        register_list_item("news", serializer=NewsListItemSerializer, queryset=news_list)
