"""The demo's staff logins as `make run` prints them, and an admin sign-in with their TOTP codes.

Shared by the browser tests on the demo server (tests/devserver/test_browser_*.py).
"""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass

from django_otp.oath import TOTP

#: ``  camille.martin / quartier-demo    (validator of Ville de Lyonnay)`` (seed_demo's table).
LOGIN_LINE = re.compile(r"^\s+(\S+) / (\S+)\s+\((.+)\)$", re.MULTILINE)
#: ``  camille.martin: CP53…`` (the TOTP keys under the table).
KEY_LINE = re.compile(r"^\s+(\S+): ([A-Z2-7=]{16,})$", re.MULTILINE)
#: The time step of every demo authenticator, in seconds (django-otp's default).
TOTP_STEP_S = 30

#: username → the last TOTP time step used to sign in: django-otp refuses a code twice.
_used_steps: dict[str, int] = {}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    totp_key: str  # base32, as printed
    who: str = ""  # the role and organization, as printed: "validator of Ville de Lyonnay"


def demo_editor(log: str) -> DemoLogin:
    """The demo editor, from the ``Demo editor login`` and ``TOTP key`` lines `make run` prints."""
    login = re.search(r"Demo editor login: (\S+) / (\S+)", log)
    key = re.search(r"Demo editor TOTP key: ([A-Z2-7=]+)", log)
    assert login and key, log[-2000:]
    return DemoLogin(login[1], login[2], key[1])


def demo_login(log: str, username: str) -> DemoLogin:
    """Any demo login, from the table of logins and the list of TOTP keys `make run` prints."""
    logins = {name: (password, who) for name, password, who in LOGIN_LINE.findall(log)}
    keys = dict(KEY_LINE.findall(log))
    assert username in logins and username in keys, log[-2000:]
    password, who = logins[username]
    return DemoLogin(username, password, keys[username], who)


def _fresh_code(login: DemoLogin) -> str:
    """The current code of ``login``'s authenticator, waiting for the next one if this one was
    already used in this test session (another test signed the same person in seconds ago)."""
    step = int(time.time()) // TOTP_STEP_S
    if _used_steps.get(login.username, -1) >= step:
        time.sleep((step + 1) * TOTP_STEP_S - time.time() + 0.5)
        step = int(time.time()) // TOTP_STEP_S
    _used_steps[login.username] = step
    totp = TOTP(base64.b32decode(login.totp_key), step=TOTP_STEP_S)
    totp.time = step * TOTP_STEP_S
    return f"{totp.token():06d}"


def admin_sign_in(page, login: DemoLogin) -> None:
    """Password, then the code the person's authenticator app shows."""
    page.goto("/admin/login/")
    page.fill("#id_username", login.username)
    page.fill("#id_password", login.password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/mfa/verify/**")
    page.fill("#id_otp_token", _fresh_code(login))
    page.click("#mfa-form input[type=submit]")
    page.wait_for_selector("#user-tools")
