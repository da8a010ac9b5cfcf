"""Staff side of residents: one aggregate statistics page; no list of devices or places.

Device, Place, follows, saved items and interactions are deliberately not registered: staff
never browse individual residents. The page needs the ``residents.view_residentstatistics``
permission (superusers have it).
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from apps.core.disclosure import BASE, K
from apps.residents.models import ResidentStatistics
from apps.residents.statistics import resident_statistics


@admin.register(ResidentStatistics)
class ResidentStatisticsAdmin(admin.ModelAdmin):
    """Only the aggregate page: no change list, no change form, no add or delete."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        return [
            path(
                "",
                self.admin_site.admin_view(self.statistics_view),
                name=f"{opts.app_label}_{opts.model_name}_changelist",
            )
        ]

    def statistics_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("Statistiques des habitants"),
            "opts": self.model._meta,
            "report": resident_statistics(),
            "small_count": K,
            "base": BASE,
        }
        return TemplateResponse(request, "admin/residents/statistics.html", context)
