"""Translated fields of events (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from apps.core.models import audited_translated
from apps.events.models import Event


@register(Event)
class EventTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "image_alt", "price_info")
    required_languages = ("fr",)


# After the translation options, so the history table has the fr/en columns.
audited_translated(Event)
