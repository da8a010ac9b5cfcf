"""``{% site_name %}``: the city's name from settings, also on pages Django renders itself (404)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def site_name() -> str:
    return settings.SITE_NAME
