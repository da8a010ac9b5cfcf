"""``bench/interop_import.py`` on a small feed, as a CI smoke check: the generated feed is valid
WZDx, the import creates every works, and the re-import changes nothing and notifies nobody. No
timing is asserted (the figures come from runs on the bench machine, bench/README.md)."""

from __future__ import annotations

import pytest

from apps.interop.models import Source
from apps.works.models import Works
from bench import interop_import
from tests.interop.support import assert_wzdx_valid


def test_bench_generated_feed_is_valid_wzdx():
    feed = interop_import.generated_feed(40)

    assert_wzdx_valid(feed)
    assert len(feed["features"]) == 40


@pytest.mark.django_db
def test_bench_import_smoke():
    result = interop_import.run(events=30)

    figures = result["figures"]
    assert figures["works"] > 0
    assert figures["rerun_changes_nothing"] is True
    assert figures["rerun_unchanged"] == figures["works"]
    assert result["targets"][0]["status"] == "met"
    assert not Works.objects.exists() and not Source.objects.exists()  # cleaned up
