"""The public website app (``apps.site``): pages per item, feeds, widgets, ``/.well-known/``."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    name = "apps.site"
    label = "site"
    verbose_name = _("Site public")
