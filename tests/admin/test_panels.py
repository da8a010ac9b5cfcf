"""The change-form panel hook (where the notifications app will show its reach preview)."""

from __future__ import annotations

import pytest
from django.utils.html import format_html

from apps.core.admin.panels import register_change_form_panel, unregister_change_form_panel
from tests.admin.conftest import admin_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def reach_panel():
    calls = []

    def panel(request, obj, model):
        calls.append((obj, model))
        if obj is None:
            return None
        return format_html('<p class="reach">Environ {} appareils</p>', 1240)

    register_change_form_panel(panel)
    yield calls
    unregister_change_form_panel(panel)


def test_registered_panel_is_shown_on_the_change_form(editor_client, city_items, reach_panel):
    works = city_items["works"]

    content = editor_client.get(admin_url("works", "change", works.pk)).content.decode()

    assert '<p class="reach">Environ 1240 appareils</p>' in content
    assert reach_panel == [(works, type(works))]


def test_panel_returning_nothing_shows_nothing(editor_client, city, reach_panel):
    content = editor_client.get(admin_url("news", "add")).content.decode()

    assert 'class="reach"' not in content
    assert 'class="module quartier-panels"' not in content
    assert reach_panel[0][0] is None


@pytest.fixture
def without_reach_preview():
    """The notifications app's reach preview taken out for one test."""
    from apps.notifications.admin.reach import reach_preview

    unregister_change_form_panel(reach_preview)
    yield
    register_change_form_panel(reach_preview)


def test_without_panels_the_form_has_no_panel_block(
    editor_client, city_items, without_reach_preview
):
    content = editor_client.get(admin_url("news", "change", city_items["news"].pk)).content
    assert b"quartier-panels" not in content
