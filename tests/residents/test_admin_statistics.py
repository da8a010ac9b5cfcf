"""Staff see aggregates only: devices per area, follows per category/area/organization, masked."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from apps.core.geo import point
from apps.recommend.models import Interaction
from apps.residents.models import (
    AreaFollow,
    CategoryFollow,
    Device,
    OrganizationFollow,
    Place,
    SavedItem,
    TransferCode,
)
from tests.disclosure_support import shown_for
from tests.factories import CENTRE_LAT, CENTRE_LON, AreaFactory, square
from tests.residents.factories import PlaceFactory, make_resident
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

URL = "/admin/residents/residentstatistics/"


@pytest.fixture
def city_data(centre, culture, mobility, city):
    far = AreaFactory(slug="confluence", name="Confluence", geometry=square(4.82, 45.74, 0.005))
    far.centre_devices = []
    for i in range(7):
        device = make_resident().device
        far.centre_devices.append(device)
        PlaceFactory(device=device, location=point(CENTRE_LON + i * 0.0005, CENTRE_LAT))
        PlaceFactory(device=device, label="work", location=point(CENTRE_LON, CENTRE_LAT + 0.001))
        CategoryFollow.objects.create(device=device, category=culture)
        AreaFollow.objects.create(device=device, area=centre)
    for _ in range(2):
        device = make_resident().device
        PlaceFactory(device=device, location=point(4.82, 45.74))
        CategoryFollow.objects.create(device=device, category=mobility)
        OrganizationFollow.objects.create(device=device, organization=city)
    return far


def _cells(html: str, table_id: str) -> dict[str, list[str]]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', table, re.S)
    return {name: re.findall(r'<td class="count">(.*?)</td>', cells) for name, cells in rows}


def test_statistics_page_shows_masked_aggregates(client: Client, superuser, city_data):
    staff_login(client, superuser)

    response = client.get(URL)

    assert response.status_code == 200
    html = response.content.decode()
    seven = shown_for(city_data.centre_devices)  # 7 rounded to 5 or 10 by their key
    assert seven in {"5", "10"}
    assert _cells(html, "stats-areas") == {"Centre": [seven, seven], "Confluence": ["masqué"] * 2}
    assert _cells(html, "stats-categories") == {"Mobilité": ["masqué"], "Culture": [seven]}
    assert _cells(html, "stats-organizations")["Ville de Lyonnay"] == ["masqué"]
    assert "45.76" not in html and "4.83" not in html
    for device in Device.objects.all():
        assert f"device {device.pk}" not in html


def test_statistics_query_count_does_not_grow_with_residents(
    client, superuser, city_data, django_assert_max_num_queries
):
    staff_login(client, superuser)
    client.get(URL)
    with django_assert_max_num_queries(12) as few:
        client.get(URL)
    for _ in range(5):
        PlaceFactory(device=make_resident().device)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_statistics_page_is_linked_from_the_admin_index(client, superuser):
    staff_login(client, superuser)

    html = client.get(reverse("admin:index")).content.decode()

    assert URL in html


def test_staff_without_the_permission_cannot_see_it(client, city_editor):
    staff_login(client, city_editor)
    assert client.get(URL).status_code == 403

    city_editor.user_permissions.add(Permission.objects.get(codename="view_residentstatistics"))
    assert client.get(URL).status_code == 200


def test_no_admin_screen_lists_residents_data(client, superuser):
    personal = {
        Device,
        Place,
        CategoryFollow,
        AreaFollow,
        OrganizationFollow,
        SavedItem,
        TransferCode,
        Interaction,
    }
    assert personal.isdisjoint(admin.site._registry)
    staff_login(client, superuser)
    for path in ("/admin/residents/device/", "/admin/residents/place/", f"{URL}1/change/"):
        assert client.get(path).status_code == 404


def _totals(client: Client) -> dict[str, str]:
    html = client.get(URL).content.decode()
    return dict(re.findall(r'<tr><th scope="row">(.*?)</th><td class="count">(.*?)</td>', html))


def test_statistics_totals_mask_what_the_total_would_give_away(client, superuser):
    """9 devices, all reachable: both show. Then 2 cannot be reached: they would be the total
    minus "reachable", so "reachable" is masked with them (complementary suppression)."""
    devices = [make_resident(push_token=f"tok-{i}-" + "x" * 40).device for i in range(9)]
    staff_login(client, superuser)

    before = _totals(client)
    for device in devices[:2]:
        device.push_token_active = False
        device.save(update_fields=["push_token_active"])
    after = _totals(client)

    assert before["Appareils enregistrés"] == shown_for(devices)
    assert before["Appareils joignables par notification"] == shown_for(devices)
    assert after["Appareils enregistrés"] == shown_for(devices)
    assert after["Appareils joignables par notification"] == "masqué"
    assert after["Personnalisation acceptée"] == "masqué"  # 0: below k
