"""Admin forms that save through services, with the services' refusals shown as form errors.

Django admin validates the form and inlines, then calls ``save_model`` and ``save_related``;
an exception there would be a 500. Here ``save_model`` does nothing and ``save_related`` hands
the item and its inline rows to one service call (``save_with_service``): for content, the
type's ``*_apply`` service that the API and the importers use too, with the fields the editor
changed (``changed_values``), so the same rules apply whoever writes. If the service
refuses (``ValidationError``), the view's transaction is rolled back and the same POST is
processed again with the service's errors attached to the form, so the editor sees the page
with their input and the reason, and nothing was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.forms.models import BaseModelFormSet
from django.http import HttpRequest, HttpResponse
from django.utils.text import capfirst

_ERROR_ATTR = "_quartier_service_error"


class ServiceRejectedError(Exception):
    """A service refused to save; carries its ``ValidationError``."""

    def __init__(self, error: ValidationError) -> None:
        super().__init__(error)
        self.error = error


def _attach(form: forms.BaseForm, error: ValidationError) -> None:
    """Add ``error`` to ``form``: on the named fields it knows, else as a non-field error."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        target = None
        for candidate in (name, f"{name}_fr"):
            if candidate in form.fields:
                target = candidate
                break
        if target is None and name != NON_FIELD_ERRORS:
            label = _label(form, name)
            errors = [ValidationError(f"{label} : {message}") for e in errors for message in e]
        form.add_error(target, errors)


def _label(form: forms.BaseForm, name: str) -> str:
    """The verbose name of model field ``name``, for errors on fields the form does not show."""
    model = getattr(getattr(form, "_meta", None), "model", None)
    try:
        return str(capfirst(model._meta.get_field(name).verbose_name))  # type: ignore[union-attr]
    except (AttributeError, FieldDoesNotExist):
        return name


def formset_rows(formset: BaseModelFormSet) -> list[Any]:
    """The unsaved rows an inline formset describes (kept, changed and new; not deleted).

    Calls ``formset.save(commit=False)`` so the admin's change message still lists what was
    added, changed and deleted; writing the rows is left to the service.
    """
    formset.save(commit=False)
    deleted = set(formset.deleted_forms) if formset.can_delete else set()
    return [
        form.instance
        for form in formset.forms
        if form not in deleted and (form.instance.pk is not None or form.has_changed())
    ]


def changed_values(form: forms.ModelForm, fields: Iterable[str]) -> dict[str, Any]:
    """The ``fields`` the editor changed on ``form``, with the values the form put on the item.

    The admin form has already set them on ``form.instance``; naming them tells the service
    what this write is about (a new venue without a new drawing moves the event, for one).
    """
    changed = set(form.changed_data)
    return {name: getattr(form.instance, name) for name in fields if name in changed}


class ServiceSaveMixin:
    """ModelAdmin mixin: save through ``save_with_service``; its refusals become form errors."""

    def save_with_service(
        self,
        request: HttpRequest,
        obj: Any,
        form: forms.ModelForm,
        formsets: list[BaseModelFormSet],
        change: bool,
    ) -> None:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing yet: the service saves the item together with its inlines."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        try:
            self.save_with_service(request, form.instance, form, formsets, change)
        except ValidationError as exc:
            raise ServiceRejectedError(exc) from exc

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
        except ServiceRejectedError as rejected:
            # The first pass rolled back; the second shows the form with the reason.
            setattr(request, _ERROR_ATTR, rejected.error)
            return super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)  # type: ignore[misc]
        error: ValidationError | None = getattr(request, _ERROR_ATTR, None)
        if error is None:
            return form_class
        refusal = error

        class RejectedForm(form_class):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                _attach(self, refusal)
                return cleaned

        RejectedForm.__name__ = form_class.__name__
        return RejectedForm
