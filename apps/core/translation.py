"""Translated fields of the taxonomy (django-modeltranslation)."""

from modeltranslation.translator import TranslationOptions, register

from apps.core.models import Category


@register(Category)
class CategoryTranslationOptions(TranslationOptions):
    fields = ("name",)
    required_languages = ("fr",)
