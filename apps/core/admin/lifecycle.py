"""Lifecycle in the admin: publish / schedule / archive / unpublish (and cancel) as list actions
and as buttons on the change form, each through the services of ``apps.core.services``.

Status is never edited in the form. Each item goes through its service on its own, so one
refusal ("already expired") is reported for that item and the others still change. Scheduling
asks for the date on an intermediate page (``<changelist>/schedule/?ids=…``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.core.admin.permissions import organization_ids
from apps.core.approval_rule import approval_pending, approval_reasons, is_validator
from apps.core.models import Status
from apps.core.services import (
    content_archive,
    content_publish,
    content_schedule,
    content_unpublish,
)


@dataclass(frozen=True)
class Transition:
    """One lifecycle step as the admin offers it."""

    code: str
    label: Any  # the action's name in the list ("Publier")
    button: Any  # the change-form button ("Enregistrer et publier")
    done: Any  # success message, ``ngettext_lazy`` on the number "count" (%(count)d)
    run: Callable[[Any, Any], Any]  # (item, user) -> calls the service
    available: Callable[[Any], bool]  # whether the button shows for this item
    confirm: Any = None  # a question the button asks before acting, if any


PUBLISH = Transition(
    "publish",
    _("Publier maintenant"),
    _("Enregistrer et publier"),
    ngettext_lazy("%(count)d contenu publié.", "%(count)d contenus publiés.", "count"),
    lambda item, user: content_publish(item=item, user=user),
    lambda item: item.status != Status.PUBLISHED,
)
SCHEDULE = Transition(
    "schedule",
    _("Programmer la publication…"),
    _("Enregistrer et programmer…"),
    ngettext_lazy("%(count)d contenu programmé.", "%(count)d contenus programmés.", "count"),
    lambda item, user: None,  # needs a date: see ``LifecycleMixin.schedule_view``
    lambda item: item.status != Status.PUBLISHED,
)
ARCHIVE = Transition(
    "archive",
    _("Archiver"),
    _("Enregistrer et archiver"),
    ngettext_lazy("%(count)d contenu archivé.", "%(count)d contenus archivés.", "count"),
    lambda item, user: content_archive(item=item, user=user),
    lambda item: item.status == Status.PUBLISHED,
    _("Archiver ce contenu ? Il disparaîtra de l'application."),
)
UNPUBLISH = Transition(
    "unpublish",
    _("Repasser en brouillon"),
    _("Enregistrer et repasser en brouillon"),
    ngettext_lazy(
        "%(count)d contenu repassé en brouillon.",
        "%(count)d contenus repassés en brouillon.",
        "count",
    ),
    lambda item, user: content_unpublish(item=item, user=user),
    lambda item: item.status != Status.DRAFT,
    _("Repasser ce contenu en brouillon ? S'il est publié, il disparaîtra de l'application."),
)


WITHDRAW = Transition(
    "withdraw",
    _("Retirer la demande de validation"),
    _("Enregistrer et retirer la demande de validation"),
    ngettext_lazy(
        "%(count)d demande de validation retirée.",
        "%(count)d demandes de validation retirées.",
        "count",
    ),
    lambda item, user: content_unpublish(item=item, user=user),
    lambda item: item.status == Status.DRAFT and approval_pending(item) is not None,
)

#: The publish buttons of someone whose publication waits for a validator (two-person rule).
PUBLISH_REQUEST = replace(PUBLISH, button=_("Enregistrer et demander la publication"))
SCHEDULE_REQUEST = replace(SCHEDULE, button=_("Enregistrer et demander la programmation…"))

SUBMITTED = ngettext_lazy(
    "%(count)d demande de validation envoyée aux validateurs : rien n'est publié avant leur "
    "accord.",
    "%(count)d demandes de validation envoyées aux validateurs : rien n'est publié avant leur "
    "accord.",
    "count",
)


def _default_publish_at() -> datetime:
    tomorrow = timezone.localtime() + timedelta(days=1)
    return tomorrow.replace(hour=8, minute=0, second=0, microsecond=0)


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publier le"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Heure de Paris. Le contenu sera publié automatiquement à cette date."),
    )

    def clean_publish_at(self) -> datetime:
        value = self.cleaned_data["publish_at"]
        if value <= timezone.now():
            raise ValidationError(_("La date de publication doit être dans le futur."))
        return value


class LifecycleMixin:
    """ModelAdmin mixin: lifecycle actions, the schedule page and the change-form buttons."""

    transitions: ClassVar[tuple[Transition, ...]] = (
        PUBLISH,
        SCHEDULE,
        ARCHIVE,
        UNPUBLISH,
        WITHDRAW,
    )

    # --- running transitions ------------------------------------------------------------
    def apply_transition(
        self,
        request: HttpRequest,
        items: Iterable[Any],
        transition: Transition,
        run: Callable[[Any, Any], Any] | None = None,
    ) -> int:
        """Run ``transition`` on each item in its own transaction; report per item."""
        run = run or transition.run
        done = submitted = 0
        for item in items:
            if not self.has_change_permission(request, item):  # type: ignore[attr-defined]
                raise PermissionDenied
            was_pending = approval_pending(item) is not None
            try:
                result = run(item, request.user)
            except ValidationError as exc:
                messages.error(
                    request,
                    _("« %(item)s » : %(reason)s")
                    % {"item": item, "reason": " ".join(exc.messages)},
                )
                continue
            if (
                transition.code in (PUBLISH.code, SCHEDULE.code)
                and not was_pending
                and getattr(result, "status", None) not in (Status.PUBLISHED, Status.SCHEDULED)
                and approval_pending(item) is not None
            ):
                submitted += 1
                self.log_change(request, item, str(_("Demande de validation")))  # type: ignore[attr-defined]
                continue
            done += 1
            self.log_change(request, item, str(transition.label))  # type: ignore[attr-defined]
        if done:
            messages.success(request, transition.done % {"count": done})
        if submitted:
            messages.warning(request, SUBMITTED % {"count": submitted})
        return done + submitted

    def _transition(self, code: str | None) -> Transition | None:
        return next((t for t in self.transitions if t.code == code), None)

    # --- list actions -------------------------------------------------------------------
    @admin.action(description=PUBLISH.label, permissions=["change"])
    def publish_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, PUBLISH)

    @admin.action(description=SCHEDULE.label, permissions=["change"])
    def schedule_selected(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return HttpResponseRedirect(f"{self._url('schedule')}?ids={ids}")

    @admin.action(description=ARCHIVE.label, permissions=["change"])
    def archive_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, ARCHIVE)

    @admin.action(description=UNPUBLISH.label, permissions=["change"])
    def unpublish_selected(self, request: HttpRequest, queryset: Any) -> None:
        self.apply_transition(request, queryset, UNPUBLISH)

    # --- the schedule page --------------------------------------------------------------
    def _url(self, name: str, *args: Any) -> str:
        opts = self.model._meta  # type: ignore[attr-defined]
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.schedule_view)  # type: ignore[attr-defined]
        opts = self.model._meta  # type: ignore[attr-defined]
        own = [
            path("schedule/", view, name=f"{opts.app_label}_{opts.model_name}_schedule"),
        ]
        return own + super().get_urls()  # type: ignore[misc]

    def schedule_view(self, request: HttpRequest) -> HttpResponse:
        """Ask for the publication date of the items ``?ids=1,2``, then schedule them."""
        if not self.has_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        ids = [int(v) for v in request.GET.get("ids", "").split(",") if v.strip().isdigit()]
        items = list(self.get_queryset(request).filter(pk__in=ids))  # type: ignore[attr-defined]
        back_to_item = request.GET.get("from") == "change" and len(items) == 1
        if not items:
            messages.warning(request, _("Aucun contenu sélectionné."))
            return HttpResponseRedirect(self._url("changelist"))
        form = ScheduleForm(
            request.POST if request.method == "POST" else None,
            initial={"publish_at": _default_publish_at()},
        )
        if request.method == "POST" and form.is_valid():
            publish_at = form.cleaned_data["publish_at"]
            self.apply_transition(
                request,
                items,
                SCHEDULE,
                run=lambda item, user: content_schedule(
                    item=item, publish_at=publish_at, user=user
                ),
            )
            if back_to_item:
                return HttpResponseRedirect(self._url("change", items[0].pk))
            return HttpResponseRedirect(self._url("changelist"))
        opts = self.model._meta  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Programmer la publication"),
            "opts": opts,
            "items": items,
            "form": form,
            "media": self.media + form.media,  # type: ignore[attr-defined]
        }
        return TemplateResponse(request, "admin/quartier/schedule.html", context)

    # --- change-form buttons ------------------------------------------------------------
    def lifecycle_buttons(self, request: HttpRequest, obj: Any) -> list[Transition]:
        if obj is None:
            if not self.has_add_permission(request):  # type: ignore[attr-defined]
                return []
            user = request.user
            validator = user.is_superuser or any(
                is_validator(user, pk) for pk in organization_ids(user)
            )
            return [PUBLISH, SCHEDULE] if validator else [PUBLISH_REQUEST, SCHEDULE_REQUEST]
        if not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return []
        if approval_pending(obj) is not None:
            return [t for t in (ARCHIVE, UNPUBLISH, WITHDRAW) if t.available(obj)]
        asks = bool(approval_reasons(item=obj, user=request.user))
        requests = {PUBLISH.code: PUBLISH_REQUEST, SCHEDULE.code: SCHEDULE_REQUEST}
        return [
            requests[t.code] if asks and t.code in requests else t
            for t in self.transitions
            if t.code != WITHDRAW.code and t.available(obj)
        ]

    def _after_save(self, request: HttpRequest, obj: Any) -> HttpResponse | None:
        transition = self._transition(request.POST.get("_lifecycle"))
        if transition is None or not transition.available(obj):
            return None
        messages.success(request, _("« %(item)s » enregistré.") % {"item": obj})
        if transition is SCHEDULE:
            return HttpResponseRedirect(f"{self._url('schedule')}?ids={obj.pk}&from=change")
        self.apply_transition(request, [obj], transition)
        return HttpResponseRedirect(self._url("change", obj.pk))

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None):
        return self._after_save(request, obj) or super().response_add(  # type: ignore[misc]
            request, obj, post_url_continue
        )

    def response_change(self, request: HttpRequest, obj: Any):
        return self._after_save(request, obj) or super().response_change(request, obj)  # type: ignore[misc]
