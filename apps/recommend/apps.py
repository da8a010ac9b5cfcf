"""App configuration for the recommender."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecommendConfig(AppConfig):
    name = "apps.recommend"
    label = "recommend"
    verbose_name = _("Recommandation")

    def ready(self) -> None:
        from apps.recommend import receivers  # connects signal receivers

        receivers.connect_model_writes()
