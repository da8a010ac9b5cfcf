"""Translated fields of events (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from apps.events.models import Event


@register(Event)
class EventTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "image_alt", "price_info")
    required_languages = ("fr",)
