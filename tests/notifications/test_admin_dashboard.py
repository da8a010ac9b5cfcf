"""The organisation dashboard (issue 16, item 6): per ISO week, items published, pushes sent,
reach and opens by category; scoped to the user's organisations; bad parameters answer 4xx;
a fixed number of queries whatever the number of weeks.

The city published a roadwork last week (mobility) and a news item this week (culture); the
metropole published one item this week. The roadwork's notification reached 7 devices last
week (two of them got a second push, the news's, this week, with 4 more devices); the
notifications were opened 9 and 3 times.
"""

from __future__ import annotations

import html as html_lib
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.core.disclosure import MASK
from apps.notifications.admin.dashboard import dashboard_charts
from apps.notifications.dashboard import MAX_WEEKS, organization_weeks, week_mondays
from apps.notifications.models import Delivery, DeliveryStatus, Kind, Notification
from tests.disclosure_support import shown_for
from tests.factories import NewsFactory, WorksFactory
from tests.notifications.helpers import phone
from tests.staff import staff_login

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("admin:notifications_notification_dashboard")


def at_week(weeks_ago: int, hours: int = 30) -> datetime:
    """A moment ``weeks_ago`` weeks back, ``hours`` after that week's Monday 00:00."""
    monday = week_mondays(1)[0] - timedelta(weeks=weeks_ago)
    midnight = timezone.make_aware(datetime.combine(monday, datetime.min.time()))
    return midnight + timedelta(hours=hours)


def published(factory, organization, category, when):
    item = factory(organization=organization, category=category)
    type(item).objects.filter(pk=item.pk).update(status="published", published_at=when)
    return item


def pushed(item, devices, when, opens):
    notification = Notification.objects.create(
        key=f"{item.type_code}:{item.pk}",
        kind=Kind.NEW,
        item_type=item.type_code,
        item_id=item.pk,
        texts={"fr": {"title": "t", "body": "b"}},
        targeted=len(devices),
        opens=opens,
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=when)
    Delivery.objects.bulk_create(
        Delivery(notification=notification, device=d, status=DeliveryStatus.SENT, sent_at=when)
        for d in devices
    )
    return notification


@pytest.fixture
def activity(city, metropole, mobility, culture):
    devices = [phone() for _ in range(11)]
    works = published(WorksFactory, city, mobility, at_week(1))
    news = published(NewsFactory, city, culture, at_week(0, hours=1))
    published(NewsFactory, metropole, culture, at_week(0, hours=2))
    published(NewsFactory, city, culture, at_week(MAX_WEEKS + 2))  # long ago
    pushed(works, devices[:7], at_week(1, hours=31), opens=9)
    pushed(news, devices[5:], at_week(0, hours=2), opens=3)
    return devices


def test_organization_weeks_counts_each_week_in_the_database(activity, city):
    devices = activity

    weeks = organization_weeks(city.pk, weeks=3)

    assert [w.monday for w in weeks] == week_mondays(3)
    assert [w.published for w in weeks] == [{}, {"works": 1}, {"news": 1}]
    assert [w.pushes.count for w in weeks] == [0, 7, 6]
    assert [w.reach.count for w in weeks] == [0, 7, 6]
    assert [{k: c.count for k, c in w.opens.items()} for w in weeks] == [
        {"Culture": 0, "Mobilité": 0},
        {"Culture": 0, "Mobilité": 9},
        {"Culture": 3, "Mobilité": 0},
    ]
    # the reach's key is the key of the devices reached: it rounds as that set does elsewhere
    charts = dashboard_charts(weeks).charts
    reach = [value for _label, value in charts[2].rows]
    assert reach == [str(MASK), shown_for(devices[:7]), shown_for(devices[5:])]


def test_reach_counts_a_device_once_a_week_however_many_pushes(city, mobility, culture):
    devices = [phone() for _ in range(6)]
    first = published(WorksFactory, city, mobility, at_week(0, hours=1))
    second = published(NewsFactory, city, culture, at_week(0, hours=1))
    pushed(first, devices, at_week(0, hours=2), opens=0)
    pushed(second, devices[:5], at_week(0, hours=3), opens=0)

    (week,) = organization_weeks(city.pk, weeks=1)

    assert week.pushes.count == 11
    assert week.reach.count == 6
    assert dashboard_charts([week]).charts[2].rows[0][1] == shown_for(devices)


def test_editor_sees_their_organization_only(client, activity, city_editor, metropole):
    staff_login(client, city_editor)

    page = client.get(DASHBOARD).content.decode()
    assert "Ville de Lyonnay : les 12 dernières semaines" in page
    assert "Métropole" not in page  # not even in the choice of organisations
    response = client.get(DASHBOARD, {"organization": metropole.pk})
    assert response.status_code == 404


def test_superuser_picks_any_organization(superuser_client, activity, metropole):
    page = superuser_client.get(DASHBOARD, {"organization": metropole.pk, "weeks": 4})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Métropole : les 4 dernières semaines" in text
    published_rows = re.search(r'id="chart-published">(.*?)</figure>', text, re.S).group(1)
    values = re.findall(r'<td class="chart-value">(.*?)</td>', published_rows)
    assert values == ["0", "0", "0", "1"]


@pytest.mark.parametrize(
    "params",
    [{"weeks": "0"}, {"weeks": str(MAX_WEEKS + 1)}, {"weeks": "douze"}, {"organization": "x"}],
)
def test_bad_parameters_answer_400(superuser_client, activity, params):
    response = superuser_client.get(DASHBOARD, params)
    assert response.status_code == 400


def test_dashboard_page_shows_masked_and_rounded_counts(superuser_client, activity, city):
    devices = activity
    page = superuser_client.get(DASHBOARD, {"organization": city.pk, "weeks": 2}).content.decode()

    reach = re.search(r'id="chart-reach">(.*?)</figure>', page, re.S).group(1)
    values = [
        html_lib.unescape(v) for v in re.findall(r'<td class="chart-value">(.*?)</td>', reach)
    ]
    assert values == [shown_for(devices[:7]), shown_for(devices[5:])]
    opens = re.search(r'id="chart-opens">(.*?)</figure>', page, re.S).group(1)
    rows = re.findall(r'<th scope="row">(.*?)</th><td class="chart-value">(.*?)</td>', opens)
    shown = {label: html_lib.unescape(v) for label, v in rows}
    assert shown["Culture"] == str(MASK)  # 3 opens
    assert shown["Mobilité"] in ("5", "10")  # 9, rounded


def test_dashboard_runs_a_fixed_number_of_queries(
    superuser_client, activity, city, django_assert_num_queries
):
    superuser_client.get(DASHBOARD, {"organization": city.pk})
    for weeks in (2, MAX_WEEKS):
        with django_assert_num_queries(DASHBOARD_QUERIES):
            response = superuser_client.get(DASHBOARD, {"organization": city.pk, "weeks": weeks})
        assert response.status_code == 200


#: Session and user, the organisations (choice, count), the chosen one, the items (three
#: content types), the pushes and reach, the opens: not one more per week.
DASHBOARD_QUERIES = 12
