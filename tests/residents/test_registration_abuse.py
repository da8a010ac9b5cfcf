"""Registration abuse controls: per-address buckets (IPv6 by /64), a global ceiling, App Check."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from rest_framework.test import APIClient

from apps.residents.models import Device

pytestmark = pytest.mark.django_db
URL = "/api/v1/devices/"


def _rates(settings, **rates):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates},
    }


def _register(address: str, **headers) -> int:
    client = APIClient(REMOTE_ADDR=address)
    return client.post(URL, {"platform": "android"}, format="json", **headers).status_code


def test_registration_throttle_buckets_ipv6_by_64(settings):
    _rates(settings, registration="3/hour")
    same_64 = [f"2001:db8:1:2:{n:x}:{n:x}:{n:x}:{n:x}" for n in range(1, 5)]

    codes = [_register(address) for address in same_64]

    assert codes == [201, 201, 201, 429]  # a phone rotating its interface id is one client
    assert _register("2001:db8:1:3::1") == 201  # the next /64 is another client


def test_registration_throttle_ipv4_mapped_ipv6_is_the_ipv4_address(settings):
    _rates(settings, registration="2/hour")

    codes = [_register("198.51.100.9"), _register("::ffff:198.51.100.9"), _register("198.51.100.9")]

    assert codes == [201, 201, 429]


def test_registration_global_ceiling_counts_every_address(settings):
    # A daily window: a test never straddles two windows (a minute's could, once in a while).
    _rates(settings, registration="100/hour", registration_all="5/day")

    codes = [_register(f"203.0.113.{n}") for n in range(1, 8)]

    assert codes == [201] * 5 + [429, 429]
    assert Device.objects.count() == 5
    response = APIClient(REMOTE_ADDR="192.0.2.1").post(URL, {"platform": "ios"}, format="json")
    assert response.json()["error"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 86400


def test_registration_global_ceiling_is_env_driven(monkeypatch):
    """API_THROTTLE_RATES accepts the new scopes (and still refuses unknown ones)."""
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import backend.settings as project_settings

    monkeypatch.setenv(
        "API_THROTTLE_RATES", "registration_all=50/min,registration_app_check=9/hour"
    )
    try:
        reloaded = importlib.reload(project_settings)
        rates = reloaded.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        assert rates["registration_all"] == "50/min"
        assert rates["registration_app_check"] == "9/hour"
        monkeypatch.setenv("API_THROTTLE_RATES", "registration_everyone=1/min")
        with pytest.raises(ImproperlyConfigured):
            importlib.reload(project_settings)
    finally:
        monkeypatch.delenv("API_THROTTLE_RATES")
        importlib.reload(project_settings)


# --- Firebase App Check: real tokens, verified by the real SDK against a local key server ---

PROJECT_NUMBER = "123456789012"


class _Keys:
    """RSA keys with ids, their public JWKS served on a local port."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        self.jwks: dict[str, Any] = {"keys": []}
        self.requests = 0

    def add(self, kid: str, *, publish: bool = True) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private[kid] = key
        if publish:
            public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            self.jwks["keys"].append({**public, "kid": kid, "use": "sig", "alg": "RS256"})

    def token(self, kid: str = "k1", *, algorithm: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": f"https://firebaseappcheck.googleapis.com/{PROJECT_NUMBER}",
            "aud": [f"projects/{PROJECT_NUMBER}", "projects/quartier-ville"],
            "sub": f"1:{PROJECT_NUMBER}:android:0a1b2c3d4e5f",
            "iat": now,
            "exp": now + 3600,
            **claims,
        }
        return jwt.encode(
            payload,
            self.private[kid],
            algorithm=algorithm,
            headers={"kid": kid, "typ": "JWT"},
        )


@pytest.fixture
def app_check(settings):
    """App Check required; Firebase's key endpoint is a local server (no network)."""
    keys = _Keys()
    keys.add("k1")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            keys.requests += 1
            body = json.dumps(keys.jwks).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.APP_CHECK_REQUIRED = True
    settings.APP_CHECK_PROJECT = PROJECT_NUMBER
    settings.APP_CHECK_JWKS_URL = f"http://127.0.0.1:{server.server_port}/v1/jwks"
    yield keys
    server.shutdown()
    server.server_close()


def _post(token: str | None, address: str = "203.0.113.50"):
    headers = {} if token is None else {"HTTP_X_FIREBASE_APPCHECK": token}
    client = APIClient(REMOTE_ADDR=address)
    return client.post(URL, {"platform": "android"}, format="json", **headers)


def test_app_check_valid_token_registers(app_check):
    response = _post(app_check.token())

    assert response.status_code == 201, response.content
    assert Device.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda keys: None, id="missing"),
        pytest.param(lambda keys: "not-a-jwt", id="garbage"),
        pytest.param(lambda keys: keys.token(exp=int(time.time()) - 10), id="expired"),
        pytest.param(lambda keys: keys.token(aud=["projects/999"]), id="other_project"),
        pytest.param(lambda keys: keys.token(iss="https://evil.example/1"), id="wrong_issuer"),
        pytest.param(lambda keys: keys.token(algorithm="RS512"), id="alg_header"),
        pytest.param(lambda keys: keys.token("forged"), id="unpublished_key"),
        pytest.param(lambda keys: keys.token("k1")[:-8] + "AAAAAAAA", id="bad_signature"),
        pytest.param(lambda keys: "x" * 5000, id="too_long"),
    ],
)
def test_app_check_missing_or_invalid_token_is_401_and_creates_nothing(app_check, make):
    app_check.add("forged", publish=False)

    response = _post(make(app_check))

    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"] in {"app_check_missing", "app_check_invalid"}
    assert set(body) == {"error", "message"}
    assert "X-Firebase-AppCheck" in response["WWW-Authenticate"]
    assert not Device.objects.exists()


def test_app_check_forged_key_ids_do_not_refetch_the_keys_each_time(app_check):
    app_check.add("forged", publish=False)
    assert _post(app_check.token()).status_code == 201
    fetched = app_check.requests

    codes = [_post(app_check.token("forged"), f"203.0.113.{n}").status_code for n in range(5)]

    assert codes == [401] * 5
    assert app_check.requests <= fetched + 1  # one refetch (key rotation), not one per request


def test_app_check_rotated_key_is_fetched(app_check, monkeypatch):
    from apps.residents import app_check as verifier

    monkeypatch.setattr(verifier, "KID_REFRESH_INTERVAL_S", 0)  # no cooldown in this test
    assert _post(app_check.token("k1")).status_code == 201
    app_check.add("k2")  # Firebase publishes a new key

    assert _post(app_check.token("k2")).status_code == 201


def test_app_check_keys_unreachable_is_503_with_retry_after(settings, app_check):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    settings.APP_CHECK_JWKS_URL = f"http://127.0.0.1:{closed_port}/v1/jwks"

    response = _post(app_check.token())

    assert response.status_code == 503
    assert response.json()["error"] == "app_check_unavailable"
    assert int(response["Retry-After"]) > 0
    assert not Device.objects.exists()


def test_app_check_replaces_the_tight_per_address_limit(settings, app_check):
    """Carrier NAT: many genuine phones behind one address register when App Check is on."""
    _rates(settings, registration="3/hour", registration_app_check="50/hour")

    codes = [_post(app_check.token()).status_code for _ in range(6)]

    assert codes == [201] * 6
    settings.APP_CHECK_REQUIRED = False
    assert [_register("198.51.100.77") for _ in range(4)] == [201, 201, 201, 429]


def test_app_check_failures_do_not_use_up_the_global_ceiling(settings, app_check):
    _rates(settings, registration_all="2/day")

    bogus = [_post("garbage", f"203.0.113.{n}").status_code for n in range(5)]
    genuine = [_post(app_check.token(), f"198.51.100.{n}").status_code for n in range(3)]

    assert bogus == [401] * 5
    assert genuine == [201, 201, 429]
