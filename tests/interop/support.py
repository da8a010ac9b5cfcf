"""What the interop tests share: validators on the shared schemas, works builders, a CIFS reader."""

from __future__ import annotations

import json
from datetime import date, time
from xml.etree import ElementTree as ET

import xmlschema
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from apps.core.models import Status
from apps.core.services import content_publish
from apps.works.models import Works, WorksPeriod
from apps.works.services import works_save
from tests.interop.conftest import STANDARDS

_cache: dict[str, object] = {}


def wzdx_validator() -> Draft7Validator:
    """The WZDx 4.2 feed schema, its ``$ref`` resolved from local files only."""
    if "wzdx" not in _cache:
        resources = []
        for path in [
            *(STANDARDS / "wzdx-4.2/schemas").glob("*.json"),
            *(STANDARDS / "geojson").glob("*.json"),
        ]:
            contents = json.loads(path.read_text())
            resources.append((contents["$id"], Resource.from_contents(contents, DRAFT7)))
        schema = json.loads((STANDARDS / "wzdx-4.2/schemas/WorkZoneFeed.json").read_text())
        _cache["wzdx"] = Draft7Validator(schema, registry=Registry().with_resources(resources))
    return _cache["wzdx"]  # type: ignore[return-value]


def xsd(name: str) -> xmlschema.XMLSchema:
    if name not in _cache:
        path = {
            "cifs": STANDARDS / "waze-cifs-2/cifsv2.xsd",
            "datex2": STANDARDS / "datex2-3/DATEXII_3_D2Payload.xsd",
        }[name]
        _cache[name] = xmlschema.XMLSchema(path)
    return _cache[name]  # type: ignore[return-value]


def assert_wzdx_valid(document: dict) -> None:
    errors = [f"{e.json_path}: {e.message[:200]}" for e in wzdx_validator().iter_errors(document)]
    assert not errors, errors[:5]


def assert_xml_valid(name: str, body: bytes) -> None:
    errors = [str(e)[:400] for e in xsd(name).iter_errors(body.decode())]
    assert not errors, errors[:3]


def cifs_incidents(body: bytes) -> list[ET.Element]:
    return list(ET.fromstring(body).iter("incident"))


def published_works(*, periods: list[WorksPeriod] | None = None, **fields) -> Works:
    """Works saved and published through the works services, as staff would."""
    works = Works(status=Status.DRAFT, **fields)
    works_save(works=works, periods=periods or [])
    content_publish(item=works)
    works.refresh_from_db()
    return works


def weekday_nights(start: date, end: date) -> WorksPeriod:
    return WorksPeriod(
        start_date=start,
        end_date=end,
        weekdays="12345",
        daily_start_time=time(21),
        daily_end_time=time(5),
    )
