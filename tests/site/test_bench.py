"""The public pages benchmark runs end to end on a tiny city (no timing asserted)."""

from __future__ import annotations

import pytest

from apps.news.models import News
from bench.site_pages import run

pytestmark = pytest.mark.django_db


def test_site_pages_bench_measures_every_mode_and_cleans_up(settings):
    settings.SITE_CACHE_SECONDS = 300
    settings.API_CACHE_SECONDS = 60
    results = run(items=2, rounds=3)
    for type_code in ("news", "works", "events"):
        figures = results[type_code]
        assert figures["miss"]["status"] == [200]
        assert figures["hit"]["status"] == [200]
        assert figures["304"]["status"] == [304]
        assert figures["api"]["status"] == [200]
        assert figures["page_kib"] > 1
    assert not News.objects.filter(organization__slug="bench-site").exists()
