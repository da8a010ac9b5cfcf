"""Translated fields of roadworks (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from apps.core.models import audited_translated
from apps.works.models import Works


@register(Works)
class WorksTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "image_alt", "detour_text")
    required_languages = ("fr",)


# After the translation options, so the history table has the fr/en columns.
audited_translated(Works)
