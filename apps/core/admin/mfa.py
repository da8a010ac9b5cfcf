"""The second sign-in step of the staff admin: verify a TOTP code, or enrol an authenticator app.

After the password (django-axes counts the failures), ``StaffAccessMiddleware`` sends a user
who owes a second factor here. Enrolment is open only to a signed-in user with no confirmed
device: a stolen password cannot replace the phone of someone who already has one (a
superuser deletes a lost device in "Appareils TOTP", then its owner enrols again). Wrong codes
slow down exponentially (django-otp's throttling, per device).
"""

from __future__ import annotations

import base64
import io
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.qr import write_qrcode_image

from apps.core.admin.staff import mfa_required

DEVICE_NAME = "Application d'authentification"


class OtpTokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code à 6 chiffres"),
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

    def __init__(self, *args: Any, device: TOTPDevice, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_otp_token(self) -> str:
        token = self.cleaned_data["otp_token"].replace(" ", "")
        allowed, details = self.device.verify_is_allowed()
        if not allowed:
            wait = (details or {}).get("locked_until")
            raise forms.ValidationError(
                _("Trop de codes erronés : attendez quelques secondes avant de réessayer.")
                if wait is None
                else _("Trop de codes erronés : réessayez après %(at)s.")
                % {"at": localtime(wait).strftime("%H:%M:%S")},
                code="throttled",
            )
        if not token.isdigit() or not self.device.verify_token(token):
            raise forms.ValidationError(_("Code incorrect ou expiré."), code="invalid")
        return token


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:index")


def _page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    response = TemplateResponse(
        request,
        template,
        {
            **admin.site.each_context(request),
            "next": _next_url(request),
            **context,
        },
    )
    add_never_cache_headers(response)
    return response


def _signed_in(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


@sensitive_post_parameters("otp_token")
def mfa_verify_view(request: HttpRequest) -> HttpResponse:
    """Ask for the current code of the user's authenticator app."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    user: Any = request.user
    if user.is_verified():
        return HttpResponseRedirect(_next_url(request))
    device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
    if device is None:
        return HttpResponseRedirect(f"{reverse('staff_mfa_enrol')}?{request.GET.urlencode()}")
    form = OtpTokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        return HttpResponseRedirect(_next_url(request))
    return _page(
        request,
        "admin/quartier/mfa_verify.html",
        title=_("Double authentification"),
        form=form,
    )


@sensitive_post_parameters("otp_token")
def mfa_enrol_view(request: HttpRequest) -> HttpResponse:
    """Pair an authenticator app (QR code or key), confirmed by its first code."""
    if not _signed_in(request):
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    user: Any = request.user
    if user_has_device(user, confirmed=True):
        target = _next_url(request) if user.is_verified() else reverse("staff_mfa_verify")
        return HttpResponseRedirect(target)
    device = TOTPDevice.objects.devices_for_user(user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = OtpTokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return HttpResponseRedirect(_next_url(request))
    key = base64.b32encode(device.bin_key).decode()
    svg = io.BytesIO()
    write_qrcode_image(device.config_url, svg)  # drawn here: no image service, no network
    return _page(
        request,
        "admin/quartier/mfa_enrol.html",
        title=_("Activer la double authentification"),
        form=form,
        required=mfa_required(user),
        # Our own SVG of the otpauth URL (qrcode's writer): no input of anyone else in it.
        qr_svg=mark_safe(svg.getvalue().decode()),
        key_groups=" ".join(key[i : i + 4] for i in range(0, len(key), 4)),
        config_url=device.config_url,
    )


urlpatterns = [
    path("verify/", mfa_verify_view, name="staff_mfa_verify"),
    path("enrol/", mfa_enrol_view, name="staff_mfa_enrol"),
]
