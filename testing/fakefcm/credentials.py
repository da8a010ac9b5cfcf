"""Throwaway service accounts for the fake FCM: an RSA key made at run time, never stored in git.

The JSON has the layout of a real Firebase service-account file, so firebase-admin and
google-auth load it unchanged; its ``token_uri`` points at the fake server, whose token endpoint
verifies the RS256 JWT with the public half of the same key.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

DEFAULT_PROJECT_ID = "quartier-test"


@dataclass(frozen=True)
class ServiceAccount:
    """A service account: its JSON content, where it was written, and its public key."""

    info: dict[str, Any]
    public_key_pem: bytes
    path: Path | None = None

    @property
    def project_id(self) -> str:
        return str(self.info["project_id"])

    @property
    def client_email(self) -> str:
        return str(self.info["client_email"])

    @property
    def key_id(self) -> str:
        return str(self.info["private_key_id"])

    @property
    def token_uri(self) -> str:
        return str(self.info["token_uri"])


def make_service_account(
    path: str | Path | None = None,
    *,
    token_uri: str,
    project_id: str = DEFAULT_PROJECT_ID,
) -> ServiceAccount:
    """Generate a fresh key and service-account JSON; write it (mode 0600) when ``path`` is set."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = f"firebase-adminsdk-fake@{project_id}.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": private_pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20) + 10**20),
        "auth_uri": token_uri.rsplit("/", 1)[0] + "/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": token_uri.rsplit("/", 1)[0] + "/certs",
        "client_x509_cert_url": token_uri.rsplit("/", 1)[0] + f"/x509/{email}",
        "universe_domain": "googleapis.com",
    }
    account = ServiceAccount(info=info, public_key_pem=_public_pem(key), path=None)
    if path is not None:
        account = write_service_account(account, path)
    return account


def write_service_account(account: ServiceAccount, path: str | Path) -> ServiceAccount:
    """Write the JSON readable by its owner only, as one should a real key file."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(account.info, handle, indent=2)
    return ServiceAccount(info=account.info, public_key_pem=account.public_key_pem, path=target)


def load_service_account(path: str | Path) -> ServiceAccount:
    """Read a service-account JSON and derive its public key (to trust it in the fake)."""
    target = Path(path)
    info = json.loads(target.read_text(encoding="utf-8"))
    key = serialization.load_pem_private_key(info["private_key"].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{target}: the service-account key is not an RSA key")
    return ServiceAccount(info=info, public_key_pem=_public_pem(key), path=target)


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
