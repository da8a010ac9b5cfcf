"""factory_boy factories for the content model, shared by every test package."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import LineString, MultiPolygon, Point, Polygon
from django.utils import timezone

from apps.core.geo import WGS84
from apps.core.models import Area, AreaKind, Category, Membership, Organization
from apps.events.models import Event, Venue
from apps.news.models import News
from apps.works.models import Works

# The demo and test city sits around this point (a French city centre).
CENTRE_LON, CENTRE_LAT = 4.8357, 45.7640


def square(lon: float, lat: float, half_deg: float) -> MultiPolygon:
    """A small square polygon around (lon, lat), as a MultiPolygon."""
    ring = (
        (lon - half_deg, lat - half_deg),
        (lon + half_deg, lat - half_deg),
        (lon + half_deg, lat + half_deg),
        (lon - half_deg, lat + half_deg),
        (lon - half_deg, lat - half_deg),
    )
    return MultiPolygon(Polygon(ring), srid=WGS84)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"editor{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@ville.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "motdepasse-solide-42")


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Membership.Role.VALIDATOR


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name_fr = factory.LazyAttribute(lambda c: c.slug.title())
    name_en = factory.LazyAttribute(lambda c: c.slug.title())


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"area-{n}")
    name = factory.LazyAttribute(lambda a: a.slug.title())
    kind = AreaKind.DISTRICT
    geometry = factory.LazyFunction(lambda: square(CENTRE_LON, CENTRE_LAT, 0.01))


class _ContentFactory(factory.django.DjangoModelFactory):
    title_fr = factory.Sequence(lambda n: f"Contenu {n}")
    summary_fr = "Résumé"
    category = factory.SubFactory(CategoryFactory)
    organization = factory.SubFactory(OrganizationFactory)
    geometry = factory.LazyFunction(lambda: Point(CENTRE_LON, CENTRE_LAT, srid=WGS84))


class NewsFactory(_ContentFactory):
    class Meta:
        model = News


class WorksFactory(_ContentFactory):
    class Meta:
        model = Works

    geometry = factory.LazyFunction(
        lambda: LineString(
            (CENTRE_LON, CENTRE_LAT), (CENTRE_LON + 0.003, CENTRE_LAT + 0.001), srid=WGS84
        )
    )
    start_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    end_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=10))


class VenueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Venue

    name = factory.Sequence(lambda n: f"Salle {n}")
    address = factory.Sequence(lambda n: f"{n} rue de la République")
    location = factory.LazyFunction(lambda: Point(CENTRE_LON, CENTRE_LAT, srid=WGS84))


class EventFactory(_ContentFactory):
    class Meta:
        model = Event

    start_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))
    end_at = factory.LazyAttribute(lambda e: e.start_at + timedelta(hours=2))
    last_end_at = factory.LazyAttribute(lambda e: e.end_at)
