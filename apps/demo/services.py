"""Seed the demo city: territory, publishers and staff, categories, venues, then the content.

``demo_seed`` is idempotent: every row has a natural key (a slug, a username, a venue's name
and address, or a deterministic ``uuid5`` for content items), so a second run creates
nothing. Content goes through the real services (``content_save``, ``works_save``,
``event_save``, then ``content_publish`` / ``content_schedule`` / ``content_archive``), so
areas are computed and the lifecycle rules hold exactly as for staff-made content. Dates are
relative to the day of the run, so the demo always looks current; ``demo_reset`` deletes the
demo content (leaving tombstones, as any deletion does) so that a new run re-dates it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.core.models import Area, AreaKind, Category, Membership, Organization
from apps.core.services import content_delete
from apps.demo.content import events_seed, news_seed, works_seed
from apps.demo.context import Login, SeedContext, SeedReport, demo_data, demo_map, demo_uuids
from apps.demo.residents import residents_seed
from apps.events.models import Event, Venue
from apps.interop.geocoding.services import street_save
from apps.interop.models import Street
from apps.news.models import News
from apps.works.models import Works


def _areas(ctx: SeedContext) -> None:
    commune_data = demo_data("city")["commune"]
    commune, created = Area.objects.update_or_create(
        slug=commune_data["slug"],
        defaults={
            "name": commune_data["name"],
            "kind": AreaKind.COMMUNE,
            "code": ctx.city.code,
            "geometry": ctx.city.commune,
            "parent": None,
        },
    )
    ctx.tally("areas", created)
    for district in ctx.city.districts:
        _area, created = Area.objects.update_or_create(
            slug=district.slug,
            defaults={
                "name": district.name,
                "kind": AreaKind.DISTRICT,
                "code": district.code,
                "geometry": district.geometry,
                "parent": commune,
            },
        )
        ctx.tally("areas", created)


def _streets(ctx: SeedContext) -> None:
    """The streets, for the built-in geocoder (``rue de la République`` finds its line)."""
    commune = demo_data("city")["commune"]
    for name in ctx.city.streets:
        created = not Street.objects.filter(name=name, city=commune["name"]).exists()
        street_save(
            name=name,
            geometry=ctx.city.street_multiline(name),
            postal_code=commune["postal_code"],
            city=commune["name"],
        )
        ctx.tally("streets", created)


def _organizations_and_categories(ctx: SeedContext) -> None:
    data = demo_data("city")
    for entry in data["organizations"]:
        org, created = Organization.objects.update_or_create(
            slug=entry["slug"],
            defaults={key: value for key, value in entry.items() if key != "slug"},
        )
        ctx.organizations[org.slug] = org
        ctx.tally("organizations", created)
    for position, entry in enumerate(data["categories"]):
        category, created = Category.objects.update_or_create(
            slug=entry["slug"],
            defaults={
                "name_fr": entry["fr"],
                "name_en": entry["en"],
                "colour": entry["colour"],
                "icon": entry["icon"],
                "position": position,
            },
        )
        ctx.categories[category.slug] = category
        ctx.tally("categories", created)


def _staff(ctx: SeedContext) -> None:
    """Demo accounts: an editor per organization and a superuser.

    An editor is an active staff user with a membership: the staff admin derives the rights
    on content from memberships, not from Django's permission table. The printed passwords
    must work, so a password changed since the last run is reset.
    """
    data = demo_data("city")
    user_model = get_user_model()
    for entry in data["users"]:
        superuser = bool(entry.get("superuser"))
        user, created = user_model.objects.get_or_create(
            username=entry["username"],
            defaults={
                "first_name": entry["first_name"],
                "last_name": entry["last_name"],
                "email": f"{entry['username']}@lyonnay.example",
            },
        )
        ctx.tally("users", created)
        changed = created or not (user.is_staff and user.is_active)
        user.is_staff = user.is_active = True
        if superuser and not user.is_superuser:
            user.is_superuser = changed = True
        if created or not user.check_password(entry["password"]):
            user.set_password(entry["password"])
            changed = True
        if changed:
            user.save()
        org_name = role = ""
        if not superuser:
            org = ctx.organizations[entry["organization"]]
            membership, _created = Membership.objects.get_or_create(
                user=user, organization=org, defaults={"role": entry["role"]}
            )
            ctx.editors.setdefault(org.slug, user)  # the first login of each organization
            org_name, role = org.name, membership.role
        key = demo_totp_key(user=user)
        ctx.report.logins.append(
            Login(user.username, entry["password"], org_name, superuser, totp_key=key, role=role)
        )


def demo_totp_key(*, user: Any) -> str:
    """The base32 key of ``user``'s demo authenticator, created once (random) and kept.

    Demo staff can notify residents, so the admin asks them for a TOTP code like anyone else
    (apps.core.admin.staff); ``seed_demo`` prints the key, ``demo_totp`` the current codes.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="démo", confirmed=True)
    return base64.b32encode(device.bin_key).decode()


def _venues(ctx: SeedContext) -> None:
    commune = demo_data("city")["commune"]
    for entry in demo_data("city")["venues"]:
        venue, created = Venue.objects.update_or_create(
            name=entry["name"],
            address=entry["address"],
            defaults={
                "postal_code": commune["postal_code"],
                "city": commune["name"],
                "location": ctx.city.point(*entry["xy"]),
                "website": entry.get("website", ""),
                "accessibility": entry.get("access", []),
            },
        )
        ctx.venues[entry["key"]] = venue
        ctx.tally("venues", created)


@transaction.atomic
def demo_seed(*, now: datetime | None = None) -> SeedReport:
    """Build the demo city, or complete it: rows that already exist are left as they are.

    Runs in one transaction: a failure leaves the database as it was.
    """
    ctx = SeedContext(now=now or timezone.now(), city=demo_map(), report=SeedReport())
    _areas(ctx)
    _streets(ctx)
    _organizations_and_categories(ctx)
    _staff(ctx)
    _venues(ctx)
    residents_seed(ctx)  # before the content, so that its publication notifies them
    news_seed(ctx, demo_data("news"))
    works_seed(ctx, demo_data("works"))
    events_seed(ctx, demo_data("events"))
    return ctx.report


@transaction.atomic
def demo_reset() -> dict[str, int]:
    """Delete the demo content items (not the territory, staff or taxonomy); return counts."""
    deleted: dict[str, int] = {}
    for type_code, model in (("news", News), ("works", Works), ("events", Event)):
        items = list(model.objects.filter(uuid__in=demo_uuids()[type_code]))
        for item in items:
            content_delete(item=item)
        deleted[type_code] = len(items)
    return deleted
