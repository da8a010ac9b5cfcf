"""FCM fan-out throughput of ONE process, against the fake FCM run out of process.

    .venv/bin/python -m bench.fcm_throughput [--messages 20000] [--repeat 3] [--json out.json]

1. Starts ``python -m testing.fakefcm`` in a subprocess (a throwaway service account whose
   token_uri is the fake).
2. Measures the fake's own capacity with a raw aiohttp client (and ``wrk`` when installed), so
   that we know the fake is not what limits the gateway.
3. Sends ``--messages`` pushes through ``FcmGateway.send`` in batches of 500 (the real path:
   JWT, token exchange, firebase-admin ``send_each_async``), ``--repeat`` times, and checks that
   the fake received every one exactly once. Reports wall-clock msg/s and msg per CPU-second of
   this process (the figure that matters on a shared machine), median and per run. With
   ``--compare-httpx`` it does the same through the SDK's own httpx client.

Prints the figures; bench/README.md keeps them with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: bench/fcm_throughput.py
    sys.path.insert(0, str(ROOT))

BATCH = 500
Transport = Literal["aiohttp", "httpx"]
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20_000, help="per run (default 20000)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--raw-messages", type=int, default=20_000, help="fake capacity run")
    parser.add_argument("--concurrency", type=int, default=100, help="raw client connections")
    parser.add_argument("--compare-httpx", action="store_true", help="also the SDK's client")
    parser.add_argument("--httpx-messages", type=int, default=5_000, help="per run, SDK client")
    parser.add_argument("--no-wrk", action="store_true", help="skip wrk even if installed")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


@contextlib.contextmanager
def fake_fcm_process(workdir: Path) -> Iterator[tuple[str, Path]]:
    """The fake in a subprocess: yields (its URL, the service-account JSON it trusts)."""
    account = workdir / "service-account.json"
    command = [sys.executable, "-m", "testing.fakefcm", "--port", "0", "--keep-messages", "0"]
    process = subprocess.Popen(
        [*command, "--service-account", str(account)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            raise RuntimeError(f"the fake FCM did not start: {line!r}")
        yield match.group(1), account
    finally:
        process.terminate()
        process.wait(10)


def access_token(account: Path) -> str:
    from google.auth.transport import requests as google_requests
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(
        str(account), scopes=[SCOPE]
    )
    credentials.refresh(google_requests.Request())
    return str(credentials.token)


def sample_body(token: str) -> dict[str, Any]:
    """A message shaped like the gateway's (about the same size)."""
    return {
        "message": {
            "token": token,
            "notification": {"title": "Travaux rue Victor-Hugo", "body": "Chaussée fermée." * 4},
            "data": {"type": "works", "id": "42", "lang": "fr"},
            "android": {
                "priority": "high",
                "ttl": "86400s",
                "collapse_key": "works-42",
                "notification": {"channel_id": "quartier_important", "tag": "works-42"},
            },
            "apns": {"headers": {"apns-priority": "10", "apns-collapse-id": "works-42"}},
        }
    }


def raw_capacity(url: str, bearer: str, messages: int, concurrency: int) -> dict[str, float]:
    """The fake's capacity seen by a lean client (aiohttp, ``concurrency`` connections)."""
    import aiohttp

    async def run() -> float:
        send_url = f"{url}/v1/projects/quartier-test/messages:send"
        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            bodies = [json.dumps(sample_body(f"raw-{i}")) for i in range(messages)]
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    async with session.post(send_url, data=body) as response:
                        await response.read()
                        if response.status != 200:
                            raise RuntimeError(f"fake answered {response.status}")

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    elapsed = asyncio.run(run())
    return {"messages": messages, "seconds": elapsed, "msg_per_s": messages / elapsed}


def wrk_capacity(url: str, bearer: str, workdir: Path, connections: int) -> dict[str, float] | None:
    """The fake's capacity seen by wrk (C, keep-alive), when it is installed."""
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    script = workdir / "post.lua"
    body = json.dumps(sample_body("wrk-token"))
    script.write_text(  # a Lua long string: no escape is interpreted
        f"wrk.method = 'POST'\nwrk.body = [==[{body}]==]\n"
        "wrk.headers['Content-Type'] = 'application/json'\n"
        f"wrk.headers['Authorization'] = 'Bearer {bearer}'\n"
    )
    target = f"{url}/v1/projects/quartier-test/messages:send"
    output = subprocess.run(
        [wrk, "-t1", f"-c{connections}", "-d5s", "-s", str(script), target],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requests = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if not requests or errors:
        raise RuntimeError(f"wrk run failed:\n{output}")
    return {"connections": connections, "msg_per_s": float(requests.group(1))}


def gateway_runs(
    url: str, account: Path, messages: int, repeat: int, transport: Transport
) -> dict[str, Any]:
    """Send ``messages`` pushes in batches of 500, ``repeat`` times, through one gateway."""
    from apps.core.models import Urgency
    from apps.notifications.gateway.fcm import FcmGateway
    from apps.notifications.gateway.push import Outcome, OutgoingPush

    gateway = FcmGateway(credentials_file=account, endpoint=url, transport=transport)
    runs: list[dict[str, Any]] = []
    try:
        # Warm-up: token exchange and connection pool, not measured.
        gateway.send([OutgoingPush(token=f"warm-{i}", title="t", body="b") for i in range(BATCH)])
        for run in range(repeat):
            pushes = [
                OutgoingPush(
                    token=f"{transport}-{run}-{i:06d}",
                    title="Travaux rue Victor-Hugo",
                    body="Chaussée fermée du 3 au 5 mars, déviation par le quai.",
                    urgency=Urgency.IMPORTANT,
                    data={"type": "works", "id": "42"},
                    tag="works-42",
                )
                for i in range(messages)
            ]
            cpu, started = os.times(), time.perf_counter()
            outcomes: dict[str, int] = {}
            for start in range(0, messages, BATCH):
                for result in gateway.send(pushes[start : start + BATCH]):
                    outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
            elapsed = time.perf_counter() - started
            after = os.times()
            cpu_s = (after.user - cpu.user) + (after.system - cpu.system)
            if outcomes != {Outcome.SENT: messages}:
                raise RuntimeError(f"not everything was sent: {outcomes}")
            runs.append(
                {
                    "messages": messages,
                    "seconds": round(elapsed, 3),
                    "msg_per_s": round(messages / elapsed),
                    "msg_per_cpu_s": round(messages / cpu_s) if cpu_s else None,
                }
            )
    finally:
        gateway.close()
    return {
        "transport": transport,
        "runs": runs,
        "median_msg_per_s": round(statistics.median(r["msg_per_s"] for r in runs)),
        "median_msg_per_cpu_s": round(statistics.median(r["msg_per_cpu_s"] or 0 for r in runs)),
    }


def verify_delivery(url: str, gateways: list[dict[str, Any]]) -> dict[str, Any]:
    """Every measured push reached the fake exactly once; return the fake's totals."""
    import httpx

    stats = httpx.get(f"{url}/_stats", timeout=60).json()
    delivered: dict[str, int] = stats.pop("delivered")
    stats.pop("received")
    for gateway in gateways:
        for run, measured in enumerate(gateway["runs"]):
            messages = measured["messages"]
            prefix = f"{gateway['transport']}-{run}-"
            counts = [count for token, count in delivered.items() if token.startswith(prefix)]
            if len(counts) != messages or set(counts) != {1}:
                raise RuntimeError(f"{prefix}*: {len(counts)} tokens reached, counts {set(counts)}")
    return stats


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    memory = re.search(r"MemTotal:\s+(\d+) kB", meminfo)
    return {
        "nproc": os.cpu_count(),
        "cpu": model.group(1).strip() if model else "unknown",
        "ram_gib": round(int(memory.group(1)) / 1024**2, 1) if memory else None,
        "python": sys.version.split()[0],
        "loadavg_start": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    results: dict[str, Any] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp, fake_fcm_process(Path(tmp)) as (url, account):
        bearer = access_token(account)
        results["fake_raw_aiohttp"] = raw_capacity(url, bearer, args.raw_messages, args.concurrency)
        if not args.no_wrk:
            results["fake_wrk"] = wrk_capacity(url, bearer, Path(tmp), args.concurrency)
        results["gateway"] = [gateway_runs(url, account, args.messages, args.repeat, "aiohttp")]
        if args.compare_httpx:
            results["gateway"].append(
                gateway_runs(url, account, args.httpx_messages, args.repeat, "httpx")
            )
        results["fake_stats"] = verify_delivery(url, results["gateway"])
    results["machine"]["loadavg_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


def report(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"machine: {m['nproc']} CPU ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}",
        f"load average at start {m['loadavg_start'][0]:.2f}, at end {m['loadavg_end'][0]:.2f}",
        f"fake FCM, raw aiohttp client: {results['fake_raw_aiohttp']['msg_per_s']:.0f} msg/s",
    ]
    if results.get("fake_wrk"):
        lines.append(f"fake FCM, wrk: {results['fake_wrk']['msg_per_s']:.0f} msg/s")
    for gateway in results["gateway"]:
        per_run = ", ".join(
            f"{r['msg_per_s']} msg/s ({r['msg_per_cpu_s']} msg/CPU-s)" for r in gateway["runs"]
        )
        lines.append(
            f"gateway [{gateway['transport']}]: median {gateway['median_msg_per_s']} msg/s, "
            f"{gateway['median_msg_per_cpu_s']} msg per CPU-second; runs: {per_run}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import logging

    logging.getLogger("apps.notifications").setLevel(logging.WARNING)  # not a line per batch
    print(report(main()))
