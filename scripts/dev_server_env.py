#!/usr/bin/env python3
"""The environment of `make run HOST=… PORT=…`: SITE_URL and ALLOWED_HOSTS derived from them.

Prints shell ``export`` lines for ``eval`` (the Makefile's ``run``), then ``#`` lines that say
where a browser, the Android emulator, the iOS simulator and a phone on the LAN reach the
server. A variable already set in the environment is kept as it is.

- ``HOST`` a wildcard (``0.0.0.0``, ``::``): the server answers on every address, so on every
  name (``DJANGO_ALLOWED_HOSTS=*``, debug server only); absolute URLs follow the host each
  request used (``SITE_URL_FROM_REQUEST``: the emulator gets ``http://10.0.2.2:PORT/…``, a
  phone ``http://192.168.1.20:PORT/…``); ``SITE_URL``, for what is built outside a request
  (pushes), is the machine's LAN address.
- ``HOST`` an address or a name: that name and the loopback names; ``SITE_URL`` on it.

Standard library only: it runs before Django. docs/api.md, "Your dev server from a phone".
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import sys
from collections.abc import Mapping

WILDCARDS = {"0.0.0.0", "::", "[::]"}
LOOPBACK_NAMES = ["127.0.0.1", "localhost", "[::1]"]
#: How the Android emulator reaches its host's loopback (Genymotion: 10.0.3.2).
ANDROID_EMULATOR_HOST = "10.0.2.2"


def lan_address() -> str | None:
    """The address this machine uses towards other networks (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: connect() only picks a route
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if ipaddress.ip_address(address).is_loopback else address


def url_host(host: str) -> str:
    """``host`` as written in a URL: IPv6 literals in brackets."""
    try:
        if ipaddress.ip_address(host.strip("[]")).version == 6:
            return f"[{host.strip('[]')}]"
    except ValueError:
        pass
    return host


def derive(host: str, port: str, environ: Mapping[str, str], lan: str | None) -> dict[str, str]:
    """The variables to export for a dev server on ``host:port`` (set ones are kept)."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"PORT must be a TCP port number, not {port!r}")
    wildcard = host in WILDCARDS
    if wildcard:
        site_host, allowed = (lan or "127.0.0.1"), ["*"]
    else:
        site_host = url_host(host)
        allowed = [site_host, *(name for name in LOOPBACK_NAMES if name != site_host)]
    derived = {
        "SITE_URL": f"http://{url_host(site_host)}:{port}",
        "DJANGO_ALLOWED_HOSTS": ",".join(allowed),
        "SITE_URL_FROM_REQUEST": "true",
        "QUARTIER_RUNSERVER_ADDR": (
            f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"
        ),
    }
    return {name: environ.get(name) or value for name, value in derived.items()}


def where(host: str, port: str, lan: str | None) -> list[str]:
    """Where each kind of client reaches the server (printed by make run)."""
    lines = [f"This computer:     http://127.0.0.1:{port}/api/v1/"]
    if host in WILDCARDS:
        lines.append(f"Android emulator:  http://{ANDROID_EMULATOR_HOST}:{port}/api/v1/")
        lines.append(f"iOS simulator:     http://127.0.0.1:{port}/api/v1/")
        if lan:
            lines.append(f"Phone on the LAN:  http://{lan}:{port}/api/v1/")
    else:
        lines.append(
            f"Only {host} listens: for an emulator or a phone run make run HOST=0.0.0.0 PORT={port}"
        )
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage: dev_server_env.py HOST PORT\n")
        return 2
    host, port = argv[1], argv[2]
    lan = lan_address()
    try:
        values = derive(host, port, os.environ, lan)
    except ValueError as error:
        sys.stderr.write(f"{error}\n")
        return 2
    for name, value in values.items():
        sys.stdout.write(f"export {name}={shlex.quote(value)}\n")
    for line in where(host, port, lan):
        sys.stdout.write(f"# {line}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
