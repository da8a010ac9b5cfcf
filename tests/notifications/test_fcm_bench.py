"""A tiny run of bench/fcm_throughput.py: the benchmark keeps working (no timing asserted)."""

from __future__ import annotations

import pytest

from bench import fcm_throughput

pytestmark = pytest.mark.slow


def test_fcm_throughput_benchmark_small_run(tmp_path):
    output = tmp_path / "fcm.json"

    small = ["--messages", "600", "--repeat", "1", "--raw-messages", "300", "--no-wrk"]
    results = fcm_throughput.main([*small, "--json", str(output)])

    [gateway] = results["gateway"]
    assert gateway["transport"] == "aiohttp"
    assert [run["messages"] for run in gateway["runs"]] == [600]
    assert results["fake_raw_aiohttp"]["messages"] == 300
    # The fake (a subprocess) accepted the warm-up, the raw run and the measured run, and
    # verify_delivery() checked each measured token arrived exactly once.
    assert results["fake_stats"]["sent"] == 500 + 300 + 600
    assert results["fake_stats"]["token_requests"] == 2  # the raw client's and the gateway's
    assert output.exists()
    assert "gateway [aiohttp]: median" in fcm_throughput.report(results)
