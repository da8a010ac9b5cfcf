"""``bench/openagenda_import.py`` on a small agenda, as a CI smoke check: the generated events
follow the contract, the import creates every event, the re-import changes nothing and notifies
nobody. No timing is asserted (the figures come from runs noted in bench/README.md)."""

from __future__ import annotations

import pytest

from apps.events.models import Event
from apps.interop.models import AgendaSource
from apps.interop.openagenda import contract
from bench import openagenda_import


def test_openagenda_bench_generated_events_follow_the_contract():
    events = openagenda_import.generated_events(30, max_slots=5)
    assert all(contract.errors(event, "Event") == [] for event in events)
    assert max(len(e["timings"]) for e in events) > 1


@pytest.mark.django_db
def test_openagenda_bench_import_smoke():
    result = openagenda_import.run(events=25, slots=4)
    figures = result["figures"]
    assert figures["created"] == 25
    assert figures["occurrences"] > 25
    assert figures["rerun_changes_nothing"] is True
    assert figures["rerun_unchanged"] == 25
    assert result["targets"][0]["status"] == "met"
    assert not Event.objects.exists() and not AgendaSource.objects.exists()  # cleaned up
