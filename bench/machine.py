"""Facts about the machine a benchmark ran on: CPU, memory, load, PostgreSQL and Redis versions."""

from __future__ import annotations

import os
import platform
from typing import Any

import psutil


def database_settings(url: str) -> dict[str, Any]:
    """Django's settings dict of a ``DATABASE_URL`` (``postgis:///name`` etc.)."""
    import environ

    return environ.Env.db_url_config(url)


def postgres_connect(url: str) -> Any:
    import psycopg

    config = database_settings(url)
    return psycopg.connect(
        dbname=config["NAME"],
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        autocommit=True,
    )


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def facts(database_url: str | None = None, redis_url: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "loadavg": [round(v, 2) for v in os.getloadavg()],
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
    }
    if database_url:
        try:
            with postgres_connect(database_url) as connection:
                row = connection.execute("SHOW server_version").fetchone()
                postgis = connection.execute("SELECT postgis_lib_version()").fetchone()
            info["postgresql"] = row[0] if row else "?"
            info["postgis"] = postgis[0] if postgis else "?"
        except Exception as exc:  # a report without the version beats no report
            info["postgresql"] = f"unknown ({exc.__class__.__name__})"
    if redis_url:
        try:
            import redis

            info["redis"] = redis.Redis.from_url(redis_url).info("server")["redis_version"]
        except Exception as exc:
            info["redis"] = f"unknown ({exc.__class__.__name__})"
    return info


def markdown(info: dict[str, Any]) -> str:
    load = ", ".join(str(v) for v in info["loadavg"])
    lines = [
        "| | |",
        "|---|---|",
        f"| CPU | {info['nproc']} x `{info['cpu']}` |",
        f"| RAM | {info['ram_gib']} GiB |",
        f"| OS, Python | {info['os']}, Python {info['python']} |",
        f"| load average at the end (1, 5, 15 min) | {load} |",
    ]
    if "postgresql" in info:
        lines.append(f"| PostgreSQL, PostGIS | {info['postgresql']}, {info.get('postgis', '?')} |")
    if "redis" in info:
        lines.append(f"| Redis | {info['redis']} |")
    return "\n".join(lines)
