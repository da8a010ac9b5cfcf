"""GIN full-text indexes (French and English) on the translated text (PostgreSQL only)."""

from django.db import migrations

import apps.core.search


class Migration(migrations.Migration):
    dependencies = [
        ("works", "0001_initial"),
        ("core", "0003_search_configuration"),
    ]

    operations = [apps.core.search.search_index("works_works")]
