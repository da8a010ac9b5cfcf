"""Staff admin of news: the content base plus links and attachments."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationTabularInline

from apps.core.admin.content import (
    ContentAdmin,
    classification_fieldset,
    image_fieldset,
    publication_fieldset,
    text_fieldset,
)
from apps.core.admin.forms import URL_OVERRIDES
from apps.core.admin.permissions import ScopedInlineMixin
from apps.news.models import News, NewsAttachment, NewsLink


class NewsLinkInline(ScopedInlineMixin, TranslationTabularInline):
    model = NewsLink
    formfield_overrides = URL_OVERRIDES
    extra = 0
    fields = ("title", "url", "position")


class NewsAttachmentInline(ScopedInlineMixin, admin.TabularInline):
    model = NewsAttachment
    extra = 0
    fields = ("title", "file", "position")


@admin.register(News)
class NewsAdmin(ContentAdmin):
    inlines = [NewsLinkInline, NewsAttachmentInline]
    fieldsets = (
        text_fieldset(),
        classification_fieldset(),
        (_("Localisation (facultative)"), {"fields": ["geometry", "areas_list"]}),
        publication_fieldset(),
        image_fieldset(),
    )
