"""An import's changes in the audit trail: the source named as the author, no staff user."""

from __future__ import annotations

import json

import pytest

from apps.interop.models import Source, SourceFormat
from apps.interop.sources.services import source_run
from apps.notifications.models import Notification
from apps.works.models import Works
from tests.factories import CategoryFactory, OrganizationFactory
from tests.interop.test_import import _future_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(db):
    return Source.objects.create(
        name="Métropole (WZDx)",
        format=SourceFormat.WZDX,
        url="http://127.0.0.1:9/wzdx.geojson",
        organization=OrganizationFactory(slug="metropole"),
        category=CategoryFactory(slug="travaux"),
    )


def test_import_records_its_source_as_the_author(source):
    document = _future_feed()
    source_run(source=source, body=json.dumps(document).encode())
    works = Works.objects.get()
    document["features"][0]["properties"]["end_date"] = "2030-07-31T01:00:00Z"
    source_run(source=source, body=json.dumps(document).encode())

    rows = list(Works.history.filter(id=works.pk).order_by("history_id"))
    assert rows[0].history_type == "+"
    # Created (published at once by the bulk path of a first import), then updated.
    assert len(rows) >= 2
    assert rows[0].status == "published"
    assert rows[-1].end_at.isoformat() == "2030-07-31T01:00:00+00:00"
    assert {r.history_actor for r in rows} == {"import « Métropole (WZDx) »"}
    assert {r.history_user_id for r in rows} == {None}
    pushes = Notification.history.filter(item_type="works", item_id=works.pk, history_type="+")
    assert pushes.exists()
    assert {r.history_actor for r in pushes} == {"import « Métropole (WZDx) »"}
