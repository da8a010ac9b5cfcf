"""Full-text documents stored in generated columns, GIN-indexed (PostgreSQL only)."""

from django.db import migrations

import apps.core.search


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_public_order"),
    ]

    operations = [apps.core.search.search_documents("events_event")]
