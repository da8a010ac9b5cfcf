"""Staff admin of news: the content base plus links and attachments; saved with ``news_apply``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
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
from apps.core.admin.saving import changed_values
from apps.news.attachments import attachment_name, attachment_validate
from apps.news.models import News, NewsAttachment, NewsLink
from apps.news.services import NEWS_FIELDS, news_apply


class NewsLinkInline(ScopedInlineMixin, TranslationTabularInline):
    model = NewsLink
    formfield_overrides = URL_OVERRIDES
    extra = 0
    fields = ("title", "url", "position")


class NewsAttachmentForm(forms.ModelForm):
    """An upload is kept only if its content is a whitelisted type; the stored name's extension
    and the recorded Content-Type are the detected type's (``apps.news.attachments``)."""

    class Meta:
        model = NewsAttachment
        fields = ("title", "file", "position")

    def clean_file(self) -> Any:
        file = self.cleaned_data.get("file")
        if isinstance(file, UploadedFile):  # a new upload (else the stored file is kept)
            kind = attachment_validate(file)
            file.name = attachment_name(original=file.name or "", kind=kind)
            self.instance.content_type = kind.content_type
        return file


class NewsAttachmentInline(ScopedInlineMixin, admin.TabularInline):
    model = NewsAttachment
    form = NewsAttachmentForm
    extra = 0
    fields = ("title", "file", "detected_type", "position")
    readonly_fields = ("detected_type",)

    @admin.display(description=_("type détecté"))
    def detected_type(self, obj: NewsAttachment) -> str:
        if obj.pk is None:
            return "—"
        if not obj.content_type:
            return str(_("non vérifié : non publié, remplacez le fichier"))
        return obj.content_type


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

    def save_with_service(
        self, request: HttpRequest, obj: Any, form: forms.ModelForm, formsets: Any, change: bool
    ) -> None:
        # Links and attachments keep the inline's own positions and uploads: saved by their
        # formsets, in the same transaction, after the article.
        news_apply(news=obj, data=changed_values(form, NEWS_FIELDS), user=request.user)
        for formset in formsets:
            self.save_formset(request, form, formset, change)
