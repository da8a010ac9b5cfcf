"""Drill mode: test devices enrol with a code shown in the app; a drill's audience is the
enrolled devices only, in the audience query itself and again when deliveries are inserted;
every text is prefixed EXERCICE; its CAP status is Exercise."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.alerts.models import CapMessage
from apps.core.services import content_publish, content_save
from apps.notifications import audience
from apps.notifications.models import Delivery, Kind, Notification
from apps.notifications.services import item_notify
from apps.residents.models import Device, DrillEnrolment
from apps.residents.services import drill_code_create, drill_enrol
from tests.alerts.support import alert_item, cap, text, texts
from tests.notifications.helpers import FAR, phone, phone_resident

pytestmark = pytest.mark.django_db


def enrolled_phone(**kwargs):
    device = phone(**kwargs)
    code, _expires = drill_code_create(device=device)
    drill_enrol(code=code)
    return device


def test_drill_enrolment_through_the_app_with_its_code():
    resident = phone_resident()
    assert resident.client.get("/api/v1/me/drill/").json() == {
        "enrolled": False,
        "enrolled_at": None,
    }
    created = resident.client.post("/api/v1/me/drill/code/")
    assert created.status_code == 201
    code = created.json()["code"]
    assert created["Cache-Control"] == "no-store"
    confirmed = resident.client.put("/api/v1/me/drill/", {"code": code}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["enrolled"] is True
    assert Device.objects.drill_enrolled().get() == resident.device
    # The code is single use.
    again = resident.client.put("/api/v1/me/drill/", {"code": code}, format="json")
    assert again.status_code == 400
    assert resident.client.delete("/api/v1/me/drill/").status_code == 204
    assert not Device.objects.drill_enrolled().exists()


def test_drill_enrolment_refuses_another_devices_code_and_garbage():
    mine, other = phone_resident(), phone_resident()
    code = other.client.post("/api/v1/me/drill/code/").json()["code"]
    for body in ({"code": code}, {"code": "not a code"}, {"code": ""}, {}):
        response = mine.client.put("/api/v1/me/drill/", body, format="json")
        assert response.status_code == 400, body
    assert mine.client.post("/api/v1/me/drill/code/", {"x": 1}, format="json").status_code == 400
    assert not DrillEnrolment.objects.enrolled().exists()
    assert mine.client.get("/api/v1/me/drill/?x=1").status_code == 400


def test_drill_code_expires():
    device = phone()
    code, _expires = drill_code_create(device=device)
    DrillEnrolment.objects.update(code_expires_at="2000-01-01T00:00:00Z")
    with pytest.raises(ValidationError):
        drill_enrol(code=code)


def test_drill_audience_is_the_enrolled_devices_only_wherever_they_are():
    near, far = enrolled_phone(), enrolled_phone(at=FAR)
    muted = enrolled_phone(notifications_enabled=False)
    bystander = phone()
    item = alert_item(exercise=True)
    assert set(audience.audience(item)) == {near, far}
    real = alert_item()
    assert bystander in set(audience.audience(real))
    assert muted not in set(audience.audience(item))


def test_drill_deliveries_never_include_a_non_enrolled_device_even_on_update():
    tester = enrolled_phone()
    bystander = phone()
    item = alert_item(exercise=False)
    content_publish(item=item)  # a real alert first: the bystander received it
    assert Delivery.objects.filter(device=bystander).count() == 1
    item.exercise = True  # then the item turns into a drill and changes
    item.geometry = item.geometry.buffer(0.001)
    content_save(item=item)
    update = Notification.objects.get(kind=Kind.UPDATE)
    assert update.exercise is True
    assert set(Delivery.objects.filter(notification=update).values_list("device", flat=True)) == {
        tester.pk
    }
    # Even a direct call with the earlier recipients cannot reach the bystander.
    item.save()
    again = item_notify(item=item, kind=Kind.UPDATE)
    assert again is not None
    assert list(again.deliveries.values_list("device", flat=True)) == [tester.pk]


def test_drill_texts_are_prefixed_and_the_cap_status_is_exercise():
    enrolled_phone()
    item = alert_item(exercise=True)
    content_publish(item=item)
    notification = Notification.objects.get(kind=Kind.NEW)
    for language in ("fr", "en"):
        assert notification.texts[language]["title"].startswith("EXERCICE — ")
        assert notification.texts[language]["body"].startswith("EXERCICE — ")
    [message] = CapMessage.objects.all()
    root = cap(message.document)
    assert text(root, "cap:status") == "Exercise"
    assert text(root, "cap:note").startswith("EXERCICE")
    for path in ("cap:info/cap:headline", "cap:info/cap:description", "cap:info/cap:instruction"):
        assert all(value.startswith("EXERCICE — ") for value in texts(root, path)), path


def test_drill_item_titles_and_summaries_are_marked_where_the_app_shows_them(client):
    from apps.core.services import content_save
    from tests.factories import NewsFactory

    item = NewsFactory.build(
        category=NewsFactory().category,
        organization=NewsFactory().organization,
        title_fr="Crue de la Saône",
        title_en="Saône flood",
        summary_fr="Quais fermés",
        summary_en="",
        exercise=True,
    )
    content_save(item=item)
    content_save(item=item)  # once only
    item.refresh_from_db()
    assert item.title_fr == "EXERCICE — Crue de la Saône"
    assert item.title_en == "EXERCICE — Saône flood"
    assert item.summary_fr == "EXERCICE — Quais fermés" and not item.summary_en
    content_publish(item=item)
    detail = client.get(f"/api/v1/news/{item.pk}/").json()
    assert detail["title"].startswith("EXERCICE")
