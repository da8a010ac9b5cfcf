"""``seed_demo`` on PostGIS: idempotence, and a demo city that holds together."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from django.test import RequestFactory, TestCase
from django.utils import timezone

from apps.core.models import Area, AreaKind, Category, Membership, Organization, Status, Tombstone
from apps.core.services import content_lifecycle_run
from apps.demo.context import demo_data
from apps.events.models import Event, EventOccurrence, EventStatus, Venue
from apps.interop.models import Street
from apps.news.models import News
from apps.works.models import Works, WorksPeriod, WorkStatus

MODELS = (
    Area,
    Organization,
    Membership,
    Category,
    Venue,
    News,
    Works,
    WorksPeriod,
    Event,
    EventOccurrence,
    Tombstone,
    get_user_model(),
)
#: django-axes checks every sign-in against its lock-out, so it needs the request.
SIGN_IN = RequestFactory().post("/admin/login/")
LOGIN_LINE = re.compile(r"^\s+(\S+) / (\S+)\s+\((.+)\)$", re.MULTILINE)
#: ``validator of Ville de Lyonnay``, ``writer (rédacteur) of Ville de Lyonnay``.
ROLE_OF = re.compile(r"(?P<role>validator|writer) (?:\(.+\) )?of (?P<org>.+)")
PRINTED_ROLES = {"validator": Membership.Role.VALIDATOR, "writer": Membership.Role.EDITOR}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_without_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert not get_user_model().objects.exists()
    assert not Area.objects.exists()


class SeedDemoContentTests(TestCase):
    """The content of one seeded city (seeded once for the class, rolled back after)."""

    databases = {"default"}

    @classmethod
    def setUpTestData(cls):
        cls.output = _seed()
        cls.now = timezone.now()
        cls.commune = Area.objects.get(kind=AreaKind.COMMUNE)

    def test_seed_again_adds_nothing_and_restores_the_demo_logins(self):
        before = _counts()
        uuids = set(Works.objects.values_list("uuid", flat=True))
        editor = get_user_model().objects.get(username="camille.martin")
        editor.set_password("changed-since")
        editor.save()

        output = _seed()

        assert _counts() == before
        assert set(Works.objects.values_list("uuid", flat=True)) == uuids
        assert "news 0/" in output and "works 0/" in output and "events 0/" in output
        assert authenticate(SIGN_IN, username="camille.martin", password="quartier-demo") == editor

    def test_reset_redates_the_content_without_duplicates(self):
        before = _counts()
        old_ids = set(News.objects.values_list("pk", flat=True))

        call_command("seed_demo", "--reset", "--force", stdout=StringIO())

        after = _counts()
        for name in ("News", "Works", "Event", "Area", "Venue", "User", "Membership"):
            assert after[name] == before[name], name
        assert not old_ids & set(News.objects.values_list("pk", flat=True))
        # Deleted items leave tombstones, so that syncing API clients drop them too.
        removed = Tombstone.objects.filter(reason=Tombstone.Reason.DELETED)
        assert removed.count() == before["News"] + before["Works"] + before["Event"]

    def test_geocoder_finds_rue_de_la_republique_offline(self):
        from apps.interop.geocoding.services import geocode

        answer = geocode(query="12 rue de la Republique")
        assert answer.backend == "builtin"
        best = answer.places[0]
        assert (best.kind, best.label) == ("housenumber", "12 rue de la République, 69990 Lyonnay")
        street = Street.objects.get(name="rue de la République")
        point = Point(best.lon, best.lat, srid=4326)
        assert street.geometry.distance(point) < 1e-9  # on the street's line
        assert self.commune.geometry.contains(point)
        # The theatre at that address is found too.
        assert any(p.kind == "venue" and "Théâtre" in p.label for p in answer.places)
        # A street name typed in lower case finds the street; a district its area.
        assert geocode(query="rue de la république").places[0].kind == "street"
        assert geocode(query="saint clair").places[0].label == "Saint-Clair"

    def test_counts_by_type_match_the_brief(self):
        assert 6 <= Area.objects.filter(kind=AreaKind.DISTRICT).count() <= 10
        assert Organization.objects.count() >= 2
        assert Category.objects.count() >= 8
        assert 25 <= News.objects.count() <= 35
        assert 35 <= Works.objects.count() <= 45
        assert 45 <= Event.objects.count() <= 55
        assert News.objects.count() == len(demo_data("news"))
        assert Works.objects.count() == len(demo_data("works")["items"])

    def test_every_works_geometry_is_a_line_inside_the_commune(self):
        for works in Works.objects.all():
            assert works.geometry.geom_type in ("LineString", "MultiLineString"), works.title_fr
            assert works.road_names, works.title_fr
        outside = Works.objects.exclude(geometry__within=self.commune.geometry)
        assert list(outside) == []

    def test_areas_are_computed_from_the_geometries(self):
        for model in (News, Works, Event):
            for item in model.objects.prefetch_related("areas"):
                slugs = {area.slug for area in item.areas.all()}
                if item.geometry is None:
                    assert slugs == set(), item.title_fr
                    continue
                touched = Area.objects.filter(geometry__intersects=item.geometry)
                assert slugs == {area.slug for area in touched}, item.title_fr
                assert self.commune.slug in slugs
                assert len(slugs) >= 2, item.title_fr  # the commune and a district
        bulky = News.objects.get(title_fr__startswith="Collecte des encombrants aux Tilleuls")
        assert {a.slug for a in bulky.areas.all()} == {"lyonnay", "les-tilleuls"}

    def test_events_lie_in_the_coming_weeks(self):
        assert not Event.objects.filter(start_at__lte=self.now).exists()
        assert not EventOccurrence.objects.filter(start_at__lte=self.now).exists()
        assert not Event.objects.filter(start_at__gt=self.now + timedelta(days=35)).exists()
        assert Event.objects.public().count() >= 40

    def test_drafts_and_scheduled_items_are_never_public(self):
        drafts, scheduled = {}, {}
        for model in (News, Works, Event):
            drafts[model] = set(
                model.objects.filter(status=Status.DRAFT).values_list("pk", flat=True)
            )
            scheduled[model] = set(
                model.objects.filter(status=Status.SCHEDULED, publish_at__gt=self.now).values_list(
                    "pk", flat=True
                )
            )
            assert drafts[model] and scheduled[model], model.type_code
            public = set(model.objects.public().values_list("pk", flat=True))
            assert not public & (drafts[model] | scheduled[model])

        content_lifecycle_run(at=self.now)  # nothing is due yet
        for model in (News, Works, Event):
            waiting = model.objects.filter(pk__in=scheduled[model], status=Status.SCHEDULED)
            assert waiting.count() == len(scheduled[model])

        content_lifecycle_run(at=self.now + timedelta(days=60))  # drafts stay drafts
        for model in (News, Works, Event):
            kept = model.objects.filter(pk__in=drafts[model], status=Status.DRAFT)
            assert kept.count() == len(drafts[model])
            assert not model.objects.public().filter(pk__in=drafts[model]).exists()

    def test_news_mix(self):
        news = News.objects.all()
        assert news.filter(status=Status.PUBLISHED, publish_at__lt=self.now).count() >= 20
        assert news.filter(geometry__isnull=True).count() >= 5
        assert news.filter(geometry__isnull=False).count() >= 10
        assert news.exclude(title_en=None).exclude(title_en="").count() >= 8
        assert news.filter(urgency__gt=0).exists() and news.filter(status=Status.ARCHIVED)
        for item in news:
            assert "{" not in item.title_fr + item.summary_fr, item.title_fr

    def test_works_mix_follows_today(self):
        works = Works.objects.all()
        for status in WorkStatus.values:
            assert works.filter(work_status=status).exists(), status
        assert works.filter(work_status=WorkStatus.ACTIVE, start_at__lt=self.now).count() >= 10
        assert works.filter(work_status=WorkStatus.PLANNED, start_at__gt=self.now).count() >= 10
        completed = works.filter(work_status=WorkStatus.COMPLETED)
        assert set(completed.values_list("status", flat=True)) == {Status.ARCHIVED}
        assert not completed.filter(end_at__gt=self.now).exists()
        night = works.filter(night_work=True)
        assert night.exists()
        assert all(p.is_overnight for p in WorksPeriod.objects.filter(works__in=night))
        assert WorksPeriod.objects.filter(weekdays="12345").exists()
        assert works.exclude(restrictions=[]).count() >= 20
        assert works.filter(detour_geometry__isnull=False).count() >= 3
        assert works.filter(impacts_bike_lane=True).exists() and works.filter(impacts_bus=True)
        assert len(set(works.values_list("road_state", flat=True))) == 4
        assert Works.objects.public().count() >= 25

    def test_events_mix(self):
        events = Event.objects.all()
        recurring = events.exclude(rrule="")
        assert recurring.count() >= 5
        assert all(event.occurrences.count() > 1 for event in recurring)
        assert events.filter(is_free=True).exists() and events.filter(price_min__gt=0)
        assert events.filter(event_status=EventStatus.CANCELLED).exists()
        assert events.filter(age_min__isnull=False).count() >= 8
        assert events.exclude(accessibility=[]).count() >= 40
        assert events.filter(registration_required=True).count() >= 5
        assert len(set(events.values_list("audience", flat=True))) >= 5
        assert events.filter(venue__isnull=True, attendance_mode="online").exists()
        assert Venue.objects.count() >= 10

    def test_each_organization_has_a_demo_editor_and_the_printed_logins_work(self):
        logins = LOGIN_LINE.findall(self.output)
        assert len(logins) >= 3
        for username, password, who in logins:
            user = authenticate(SIGN_IN, username=username, password=password)
            assert user is not None and user.is_staff, username
            if who == "superuser":
                assert user.is_superuser
            else:
                # The staff admin grants rights on content from memberships; the table names
                # the role (the two-person rule: a writer asks, a validator publishes).
                assert not user.is_superuser
                named = ROLE_OF.fullmatch(who)
                assert named, who
                membership = Membership.objects.get(user=user, organization__name=named["org"])
                assert membership.role == PRINTED_ROLES[named["role"]], (username, who)
        for organization in Organization.objects.all():
            assert organization.memberships.exists(), organization.slug
        assert "Demo editor login: camille.martin / quartier-demo" in self.output
        # The two people of the two-person rule are told apart.
        assert "  nadia.roux / quartier-demo    (validator of Ville de Lyonnay)" in self.output
        writer = "  lucas.petit / quartier-demo    (writer (rédacteur) of Ville de Lyonnay)"
        assert writer in self.output
