"""CAP in: sources polled from a fake CAP server (tests/alerts/data, written from the XSD and
the CAP 1.2 specification's examples) give exactly the expected drafts and changes; polling
again creates nothing; invalid, unsigned and unreachable input changes nothing and is reported."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.gis.geos import Point

from apps.alerts.models import CapInbound, CapSource, Outcome, SourceKind
from apps.alerts.services import cap_document_receive, cap_source_poll
from apps.core.geo import WGS84
from apps.core.models import Status, Urgency
from apps.core.services import content_publish
from apps.news.models import News
from apps.notifications.models import Kind, Notification
from testing.capfeed import FakeCapSource
from tests.alerts.support import commune
from tests.factories import CategoryFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def fake() -> Iterator[FakeCapSource]:
    with FakeCapSource() as server:
        yield server


@pytest.fixture
def source_of(settings):
    settings.CAP_FETCH_TIMEOUT_S = 1.0
    commune()
    organization = OrganizationFactory(slug="ville")
    category = CategoryFactory(slug="securite")

    def make(url: str, kind: str = SourceKind.FEED, **kwargs) -> CapSource:
        return CapSource.objects.create(
            name="Vigilance", url=url, kind=kind, organization=organization, category=category,
            **kwargs,
        )  # fmt: skip

    return make


def outcomes(source: CapSource) -> dict[str, str]:
    return dict(CapInbound.objects.filter(source=source).values_list("identifier", "outcome"))


def test_cap_in_feed_gives_a_clipped_draft_for_the_crossing_alert_and_nothing_else(fake, source_of):
    fake.publish("/storm.xml", data("storm_alert.xml"))
    fake.publish("/paris.xml", data("outside_alert.xml"))
    fake.publish("/broken.xml", data("invalid_alert.xml"))
    fake.publish("/drill.xml", data("exercise_alert.xml"))
    source = source_of(
        fake.feed("/feed.atom", ["/storm.xml", "/paris.xml", "/broken.xml", "/drill.xml"])
    )

    counts = cap_source_poll(source=source)

    assert counts == {
        "created": 1, "updated": 0, "withdrawn": 0, "outside": 1, "ignored": 1, "invalid": 1,
    }  # fmt: skip
    assert fake.violations == []
    [draft] = News.objects.all()
    assert draft.status == Status.DRAFT and draft.urgency == Urgency.ALERT and draft.notify
    assert draft.title_fr == "Vigilance orange orages"
    assert draft.title_en == "Orange warning: thunderstorms"
    assert draft.summary_fr.startswith("Des orages violents")
    assert "Consignes : Abritez-vous" in draft.body_fr
    assert draft.body_fr.endswith("Source : Service de vigilance météo")
    assert draft.body_en.endswith("Source: Weather warning service")
    assert draft.organization.slug == "ville" and draft.category.slug == "securite"
    # Clipped to the commune (its SW corner): inside both the alert polygon and the commune.
    assert draft.geometry.geom_type == "Polygon"
    xmin, ymin, xmax, ymax = draft.geometry.extent
    assert xmin == pytest.approx(4.8157, abs=1e-4) and ymin == pytest.approx(45.744, abs=1e-4)
    assert xmax == pytest.approx(4.83, abs=1e-4) and ymax == pytest.approx(45.77, abs=1e-4)
    assert [a.slug for a in draft.areas.all()] == ["lyon"]
    assert Notification.objects.count() == 0  # a draft pushes nothing: it waits for an editor
    assert outcomes(source) == {
        "FR-VIGI-2026-12-07-001": "created",
        "FR-CRUE-2026-12-07-075": "outside",
        "": "invalid",
        "FR-EXERCICE-01": "ignored",
    }
    invalid = CapInbound.objects.get(outcome=Outcome.INVALID)
    assert "msgType" in invalid.detail and invalid.url.endswith("/broken.xml")
    source.refresh_from_db()
    assert source.last_error == "1 document(s) invalide(s)" and source.last_ok_at

    # Polling the same feed again creates nothing and does not even fetch the documents again.
    assert sum(cap_source_poll(source=source).values()) == 0
    assert News.objects.count() == 1 and CapInbound.objects.count() == 4
    assert fake.hits("/storm.xml") == 1 and fake.hits("/feed.atom") == 2


def test_cap_in_update_rewrites_the_draft_and_cancel_deletes_it(fake, source_of):
    fake.publish("/storm.xml", data("storm_alert.xml"))
    source = source_of(fake.feed("/feed.atom", ["/storm.xml"]))
    cap_source_poll(source=source)
    draft = News.objects.get()

    fake.publish("/storm-2.xml", data("storm_update.xml"))
    fake.feed("/feed.atom", ["/storm.xml", "/storm-2.xml"])
    assert cap_source_poll(source=source)["updated"] == 1
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert draft.title_fr == "Vigilance rouge orages"
    assert draft.geometry.contains(Point(4.8357, 45.764, srid=WGS84))  # the circle at the centre
    assert News.objects.count() == 1

    fake.publish("/storm-3.xml", data("storm_cancel.xml"))
    fake.feed("/feed.atom", ["/storm.xml", "/storm-2.xml", "/storm-3.xml"])
    assert cap_source_poll(source=source)["withdrawn"] == 1
    assert not News.objects.exists()
    assert outcomes(source)["FR-VIGI-2026-12-07-003"] == "withdrawn"


def test_cap_in_update_of_a_published_alert_goes_through_the_update_flow_and_cancel_archives(
    source_of,
):
    source = source_of("http://unused.example/feed", kind=SourceKind.FILE)
    cap_document_receive(source=source, document=data("storm_alert.xml"))
    draft = News.objects.get()
    content_publish(item=draft)  # the editor publishes it
    assert Notification.objects.filter(kind=Kind.NEW).count() == 1

    record = cap_document_receive(source=source, document=data("storm_update.xml"))
    assert record.outcome == Outcome.UPDATED
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED and draft.title_fr == "Vigilance rouge orages"
    assert Notification.objects.filter(kind=Kind.UPDATE).count() == 1  # the area changed

    record = cap_document_receive(source=source, document=data("storm_cancel.xml"))
    assert record.outcome == Outcome.WITHDRAWN
    draft.refresh_from_db()
    assert draft.status == Status.ARCHIVED


def test_cap_in_geocode_only_alert_covers_the_whole_commune(source_of):
    source = source_of("http://unused.example/a.xml", kind=SourceKind.FILE)
    record = cap_document_receive(source=source, document=data("insee_alert.xml"))
    assert record.outcome == Outcome.CREATED
    draft = News.objects.get()
    assert draft.title_fr == "Canicule : vigilance rouge" and not draft.title_en
    assert draft.geometry.contains(Point(4.8357, 45.764, srid=WGS84))


def test_cap_in_the_same_document_twice_and_a_cancel_of_nothing_change_nothing(source_of):
    source = source_of("http://unused.example/a.xml", kind=SourceKind.FILE)
    assert cap_document_receive(source=source, document=data("outside_alert.xml")) is not None
    assert cap_document_receive(source=source, document=data("outside_alert.xml")) is None
    record = cap_document_receive(source=source, document=data("storm_cancel.xml"))
    assert record.outcome == Outcome.IGNORED
    assert not News.objects.exists()


def test_cap_in_source_faults_are_recorded_and_change_nothing(fake, source_of):
    fake.publish("/storm.xml", data("storm_alert.xml"))
    source = source_of(fake.feed("/feed.atom", ["/storm.xml"]))
    for fault, expected in (
        ({"status": 503}, "HTTP 503"),
        ({"delay_s": 2.5}, "Délai dépassé"),
    ):
        fake.fault("/feed.atom", **fault)
        assert sum(cap_source_poll(source=source).values()) == 0
        source.refresh_from_db()
        assert expected in source.last_error
        assert not News.objects.exists() and not CapInbound.objects.exists()
    fake.clear_faults()
    fake.fault("/storm.xml", status=500)  # the feed reads, one of its documents does not
    assert sum(cap_source_poll(source=source).values()) == 0
    assert not CapInbound.objects.exists()
    fake.clear_faults()
    assert cap_source_poll(source=source)["created"] == 1
    source.refresh_from_db()
    assert source.last_error == ""


def test_cap_in_oversized_and_garbage_documents(fake, source_of, settings):
    settings.CAP_FETCH_MAX_BYTES = 2_000
    fake.publish("/big.xml", b"<a>" + b"x" * 5_000 + b"</a>")
    source = source_of(fake.url + "/big.xml", kind=SourceKind.FILE)
    cap_source_poll(source=source)
    source.refresh_from_db()
    assert "trop gros" in source.last_error and not CapInbound.objects.exists()
    fake.publish(
        "/garbage.xml", b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>"
    )
    source = source_of(fake.url + "/garbage.xml", kind=SourceKind.FILE)
    assert cap_source_poll(source=source)["invalid"] == 1
    assert "root:" not in CapInbound.objects.get().detail  # no entity was ever resolved


def _signing_pair() -> tuple[str, str]:
    """A throwaway RSA key and self-signed certificate (PEM), as a CAP sender would hold."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigilance.meteo.example")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def _signed(document: bytes, key: str, certificate: str) -> bytes:
    from lxml import etree
    from signxml import XMLSigner

    root = etree.fromstring(document)
    signed = XMLSigner().sign(root, key=key, cert=certificate)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def test_cap_in_a_source_with_a_certificate_accepts_only_documents_it_signed(source_of):
    key, certificate = _signing_pair()
    other_key, _other = _signing_pair()
    source = source_of("http://unused.example/a.xml", kind=SourceKind.FILE, certificate=certificate)

    unsigned = cap_document_receive(source=source, document=data("outside_alert.xml"))
    assert unsigned.outcome == Outcome.INVALID and "non signée" in unsigned.detail
    forged = cap_document_receive(
        source=source, document=_signed(data("insee_alert.xml"), other_key, certificate)
    )
    assert forged.outcome == Outcome.INVALID and "signature" in forged.detail
    tampered = _signed(data("storm_alert.xml"), key, certificate).replace(
        b"Vigilance orange orages", b"Vigilance verte orages"
    )
    assert cap_document_receive(source=source, document=tampered).outcome == Outcome.INVALID
    assert not News.objects.exists()

    good = cap_document_receive(
        source=source, document=_signed(data("storm_alert.xml"), key, certificate)
    )
    assert good.outcome == Outcome.CREATED
    assert News.objects.get().title_fr == "Vigilance orange orages"
