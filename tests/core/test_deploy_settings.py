"""Settings a deployment sets by environment: throttle overrides, HTTPS-only cookies."""

from __future__ import annotations

import importlib
import os

import pytest
from django.core.exceptions import ImproperlyConfigured


def _rates_with(monkeypatch, value) -> dict[str, str]:
    """The throttle rates the settings module computes with ``API_THROTTLE_RATES=value``."""
    import backend.settings

    monkeypatch.setenv("API_THROTTLE_RATES", value)
    try:
        return dict(importlib.reload(backend.settings).REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"])
    finally:
        monkeypatch.delenv("API_THROTTLE_RATES")
        importlib.reload(backend.settings)


def test_throttle_rates_can_be_raised_by_environment(monkeypatch):
    rates = _rates_with(monkeypatch, "registration=100000/hour,anon=5000/min")
    assert rates["registration"] == "100000/hour" and rates["anon"] == "5000/min"
    assert rates["resident"] == "240/min"  # the others keep their defaults
    assert "API_THROTTLE_RATES" not in os.environ


def test_an_unknown_throttle_scope_is_a_configuration_error(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="unknown scope"):
        _rates_with(monkeypatch, "registraton=100/hour")


@pytest.mark.parametrize(
    ("site_url", "secure"), [("https://api.ville.example", True), ("http://127.0.0.1:8000", False)]
)
def test_cookies_are_https_only_behind_https(monkeypatch, site_url, secure):
    import backend.settings

    monkeypatch.setenv("SITE_URL", site_url)
    try:
        reloaded = importlib.reload(backend.settings)
        flags = (reloaded.SESSION_COOKIE_SECURE, reloaded.CSRF_COOKIE_SECURE)
    finally:
        monkeypatch.delenv("SITE_URL")
        importlib.reload(backend.settings)
    assert flags == (secure, secure)
