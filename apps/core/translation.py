"""Translated fields of the taxonomy (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from apps.core.models import Category, audited_translated


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name",)
    required_languages = ("fr",)


audited_translated(Category)
