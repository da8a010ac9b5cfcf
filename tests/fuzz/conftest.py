"""The deep fuzzing run (``make fuzz``): its request recorder and the summary it prints."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Where ``make fuzz`` leaves its figures (also printed at the end of the run).
REPORT = Path(os.environ.get("FUZZ_REPORT", "var/fuzz-report.json"))


class RequestRecorder:
    """A WSGI middleware counting every request, its status and its duration (body included)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.requests = 0
        self.by_status: dict[int, int] = {}
        self.server_errors: list[dict[str, Any]] = []
        self.slowest: list[tuple[float, str, int]] = []
        self.over_2s = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        status: list[int] = []

        def start(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(int(line[:3]))
            return start_response(line, headers, exc_info)

        started = time.perf_counter()
        body = b"".join(self.app(environ, start))
        elapsed = time.perf_counter() - started
        code = status[0] if status else 0
        query = environ.get("QUERY_STRING", "")
        what = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}" + (
            f"?{query[:120]}" if query else ""
        )
        self.requests += 1
        self.by_status[code] = self.by_status.get(code, 0) + 1
        if code >= 500:
            self.server_errors.append(
                {"request": what, "status": code, "body": body[:300].decode(errors="replace")}
            )
        if elapsed > 2:
            self.over_2s += 1
        self.slowest = sorted([*self.slowest, (elapsed, what, code)], reverse=True)[:5]
        return [body]

    def summary(self) -> dict[str, Any]:
        return {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": f"{os.cpu_count()} vCPU, {platform.machine()}, "
            f"Python {platform.python_version()}",
            "examples_per_operation": int(os.environ.get("FUZZ_EXAMPLES", "0")),
            "requests": self.requests,
            "server_errors": len(self.server_errors),
            "over_2s": self.over_2s,
            "slowest_s": round(self.slowest[0][0], 3) if self.slowest else None,
            "slowest": [
                {"seconds": round(s, 3), "request": what, "status": code}
                for s, what, code in self.slowest
            ],
            "by_status": {str(code): n for code, n in sorted(self.by_status.items())},
            "server_error_requests": self.server_errors[:50],
        }


RECORDER: RequestRecorder | None = None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RECORDER is None or not os.environ.get("FUZZ_EXAMPLES"):
        return  # make test: the run was skipped, only the schema was read
    summary = RECORDER.summary()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(summary, indent=2))
    terminalreporter.section("fuzzing summary")
    for key in ("date", "machine", "examples_per_operation", "requests", "server_errors"):
        terminalreporter.write_line(f"{key}: {summary[key]}")
    terminalreporter.write_line(f"requests over 2 s: {summary['over_2s']}")
    for slow in summary["slowest"]:
        terminalreporter.write_line(
            f"slow: {slow['seconds']:.3f} s {slow['status']} {slow['request']}"
        )
    terminalreporter.write_line(f"statuses: {summary['by_status']}")
    for error in summary["server_error_requests"][:10]:
        terminalreporter.write_line(f"5xx: {error['status']} {error['request']}")
    terminalreporter.write_line(f"report: {REPORT}")
