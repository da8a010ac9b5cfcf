"""Change lists: a constant number of SQL queries, filters, search, date hierarchy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.services import content_areas_refresh, content_publish
from apps.works.models import RoadState, WorkStatus
from tests.admin.conftest import FACTORIES, admin_url

pytestmark = pytest.mark.django_db
TYPES = ["news", "works", "events"]


def _items(type_code, organization, category, count):
    items = [
        FACTORIES[type_code](organization=organization, category=category) for _ in range(count)
    ]
    for item in items:
        content_areas_refresh(item=item)
    return items


#: Session, user, the verified TOTP device (django-otp), memberships, organization and category
#: filters, two counts, Django's two permission lookups (sidebar), the rows, their areas (one
#: prefetch), two date-hierarchy queries.
CHANGELIST_QUERIES = 14


@pytest.mark.parametrize("type_code", TYPES)
@pytest.mark.parametrize("rows", [2, 12])
def test_changelist_queries_do_not_grow_with_rows(
    type_code, rows, editor_client, city, mobility, centre, django_assert_num_queries
):
    _items(type_code, city, mobility, rows)

    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = editor_client.get(admin_url(type_code, "changelist"))

    assert len(response.context["cl"].result_list) == rows


def test_search_matches_both_languages_and_summary(editor_client, city, mobility):
    bridge = FACTORIES["news"](
        organization=city, category=mobility, title_fr="Pont fermé", title_en="Bridge closed"
    )
    market = FACTORIES["news"](
        organization=city, category=mobility, title_fr="Marché", summary_fr="Place Bellecour"
    )

    def found(q):
        response = editor_client.get(admin_url("news", "changelist"), {"q": q})
        return set(response.context["cl"].result_list)

    assert found("bridge") == {bridge}
    assert found("pont") == {bridge}
    assert found("bellecour") == {market}


def test_filters_status_work_status_and_road_state(editor_client, city, mobility):
    published = FACTORIES["works"](
        organization=city, category=mobility, road_state=RoadState.CLOSED
    )
    content_publish(item=published)
    cancelled = FACTORIES["works"](
        organization=city, category=mobility, work_status=WorkStatus.CANCELLED
    )
    url = admin_url("works", "changelist")

    def listed(**params):
        return set(editor_client.get(url, params).context["cl"].result_list)

    assert listed(status__exact="published") == {published}
    assert listed(work_status__exact="cancelled") == {cancelled}
    assert listed(road_state__exact="closed") == {published}


def test_date_filters_and_hierarchy(editor_client, city, mobility):
    soon = FACTORIES["events"](organization=city, category=mobility)
    later = FACTORIES["events"](
        organization=city,
        category=mobility,
        start_at=timezone.now() + timedelta(days=400),
        end_at=timezone.now() + timedelta(days=400, hours=2),
        last_end_at=timezone.now() + timedelta(days=400, hours=2),
    )
    url = admin_url("events", "changelist")
    year = timezone.localtime(later.start_at).year

    response = editor_client.get(url, {"start_at__year": year})
    assert later in response.context["cl"].result_list
    response = editor_client.get(
        url,
        {
            "start_at__gte": timezone.localdate().isoformat(),
            "start_at__lt": (timezone.localdate() + timedelta(days=7)).isoformat(),
        },
    )
    assert set(response.context["cl"].result_list) == {soon}


def test_list_shows_status_urgency_organization_and_areas(editor_client, city, mobility, centre):
    _items("works", city, mobility, 1)

    content = editor_client.get(admin_url("works", "changelist")).content.decode()

    for text in ("Brouillon", "Information", "Ville de Lyonnay", "Centre", "Prévu"):
        assert text in content
