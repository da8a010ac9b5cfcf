"""Unaccented French and English text search configurations (PostgreSQL only)."""

from django.db import migrations

import apps.core.search


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_organizationapikey"),
    ]

    operations = [*apps.core.search.search_configuration()]
