"""An index of the lists' default order, published rows only (PostgreSQL only)."""

from django.conf import settings
from django.db import migrations

import apps.core.models.content


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_search_configuration"),
        ("news", "0002_search_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [apps.core.models.content.public_order_index("news_news")]
