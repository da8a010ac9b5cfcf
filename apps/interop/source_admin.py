"""What the admins of import sources share (WZDx/DATEX II sources, OpenAgenda agendas): the
organisation scoping, the short error column, the "import now" action and the failure
warnings on the change list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def sources_visible(model: type[Model], user: Any) -> QuerySet[Any]:
    """The sources of ``model`` ``user`` may see: all for superusers, else their
    organisations'."""
    if user.is_superuser:
        return model._default_manager.all()
    return model._default_manager.filter(organization__memberships__user=user)


class SourceRunAdminMixin:
    """A source admin's shared parts; the class says how to run one source
    (``run_source``), what a refused run raises (``run_error``) and how it counts the runs
    done (``run_done_message``)."""

    run_error: ClassVar[type[Exception]]
    model: Any
    message_user: Callable[..., None]

    def run_source(self, source: Any) -> Any:
        raise NotImplementedError

    def run_done_message(self, n: int) -> str:
        raise NotImplementedError

    def visible(self, request: HttpRequest) -> QuerySet[Any]:
        return sources_visible(self.model, request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.visible(request).select_related("organization")

    @admin.display(description=_("erreur"))
    def error_short(self, obj: Any) -> str:
        return obj.last_error[:120]

    @admin.action(description=_("Importer maintenant"), permissions=["change"])
    def run_now(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        done = 0
        for source in queryset:
            try:
                self.run_source(source)
                done += 1
            except self.run_error as exc:
                self.message_user(request, f"{source.name} : {exc}", messages.ERROR)
        if done:
            self.message_user(request, self.run_done_message(done), messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        for source in self.visible(request).exclude(last_error=""):
            self.message_user(
                request, f"{source.name} : {source.last_error[:300]}", messages.WARNING
            )
        return super().changelist_view(request, extra_context)  # type: ignore[misc]
