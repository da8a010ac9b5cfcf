"""App configuration for the recommender."""

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class RecommendConfig(AppConfig):
    name = "apps.recommend"
    label = "recommend"
    verbose_name = _("Recommandation")

    def ready(self) -> None:
        from apps.recommend import receivers  # connects signal receivers

        receivers.connect_model_writes()
        from apps.recommend.online import index_refresh  # noqa: F401  (registers the refresh)

        if settings.FEED_ITEM_INDEX:
            from apps.core.api.accelerated import list_accelerator_register
            from apps.recommend.online.index_lists import index_list, index_list_reads

            list_accelerator_register(index_list, reads=index_list_reads)
