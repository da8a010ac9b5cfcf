"""Memory and time of the pre-rendered items (fragments) of a bench city, in Redis.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgis:///quartier_bench \\
        CACHE_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m bench.fragments_memory \\
        [--json out.json]

Empties the cache database (``CACHE_URL``: give it one of its own), renders the list fragment
of every public item in every language (``render_fragments``, as after a taxonomy rename),
and reports: items, fragments, Redis ``used_memory`` before and after, bytes per fragment
(value and Redis' own accounting), the time the whole re-render took (items per second), and
a second pass over the now current fragments (reads only). The web workers hold no fragment
between requests: their memory does not grow with the city; Redis' does, linearly.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def run() -> dict[str, Any]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    from django.core.cache import caches

    from apps.core.api.fragments import fragments_render_all
    from apps.core.cache import FailOpenRedisCache

    backend = caches["default"]
    if not isinstance(backend, FailOpenRedisCache):
        raise RuntimeError("set CACHE_URL to a Redis database of its own (it is emptied)")
    client = backend._cache.get_client(None, write=True)
    client.flushdb()
    before = int(client.info("memory")["used_memory"])
    started = time.monotonic()
    written = fragments_render_all()
    render_s = time.monotonic() - started
    after = int(client.info("memory")["used_memory"])
    started = time.monotonic()
    again = fragments_render_all()
    check_s = time.monotonic() - started
    keys = [k for k in client.scan_iter(match="*frag:l:*", count=1000)]
    sizes = [client.strlen(k) for k in keys[:2000]]
    sample_usage = [client.memory_usage(k) or 0 for k in keys[:2000]]
    items = written // 2 if written else 0
    return {
        "fragments": written,
        "items": items,
        "rewritten_on_second_pass": again,
        "redis_used_memory_mib": {
            "before": round(before / 2**20, 1),
            "after": round(after / 2**20, 1),
            "fragments": round((after - before) / 2**20, 1),
        },
        "bytes_per_fragment": {
            "value_mean": round(sum(sizes) / len(sizes)) if sizes else 0,
            "redis_memory_usage_mean": round(sum(sample_usage) / len(sample_usage))
            if sample_usage
            else 0,
            "used_memory_delta_mean": round((after - before) / written) if written else 0,
        },
        "render_all_s": round(render_s, 1),
        "render_items_per_s": round(written / render_s, 1) if render_s else None,
        "check_all_s": round(check_s, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    result = run()
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
