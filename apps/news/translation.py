"""Translated fields of news (django-modeltranslation: ``title_fr``, ``title_en``…)."""

from modeltranslation.translator import TranslationOptions, register

from apps.core.models import audited_translated
from apps.news.models import News, NewsLink


@register(News)
class NewsTranslationOptions(TranslationOptions):
    fields = ("title", "summary", "body", "image_alt")
    required_languages = ("fr",)


@register(NewsLink)
class NewsLinkTranslationOptions(TranslationOptions):
    fields = ("title",)


# After the translation options, so the history tables have the fr/en columns.
audited_translated(News)
audited_translated(NewsLink)
