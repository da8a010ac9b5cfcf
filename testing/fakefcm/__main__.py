"""Run the fake FCM server: ``python -m testing.fakefcm --port 8765 --service-account sa.json``.

Prints one line ``fakefcm listening on http://HOST:PORT`` once it accepts connections, then
serves until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path

from testing.fakefcm.credentials import load_service_account
from testing.fakefcm.server import FakeFcm


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m testing.fakefcm", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--service-account",
        type=Path,
        help="write a fresh throwaway service-account JSON here (token_uri -> this server)",
    )
    parser.add_argument("--project-id", default="quartier-test")
    parser.add_argument(
        "--trust",
        type=Path,
        action="append",
        default=[],
        help="also accept JWTs signed by this existing service-account JSON (repeatable)",
    )
    parser.add_argument(
        "--faults",
        default=None,
        help="initial faults, as the POST /_faults body: JSON or @file.json, e.g. "
        '\'{"unregistered": ["t1"], "latency_ms": 5, "storm": {"status": 503, '
        '"duration_s": 30, "retry_after_s": 5}}\'',
    )
    parser.add_argument(
        "--keep-messages",
        type=int,
        default=10_000,
        help="how many accepted messages to keep for /_stats?messages=N (0: none)",
    )
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    fake = FakeFcm(host=args.host, port=args.port, keep_messages=args.keep_messages)
    if args.service_account:
        fake.service_account(args.service_account, project_id=args.project_id)
    for path in args.trust:
        fake.trust(load_service_account(path))
    if args.faults:
        text = args.faults
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        fake.faults.update(json.loads(text))
    serving = asyncio.ensure_future(
        fake.serve(lambda: print(f"fakefcm listening on {fake.url}", flush=True))
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except ValueError as error:
        sys.exit(f"fakefcm: {error}")
