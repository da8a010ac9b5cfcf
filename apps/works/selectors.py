"""Reads of roadworks: the public lists and details the API serves."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.works.models import Works


def works_list() -> QuerySet[Works]:
    """Public works with what a list item shows (category, organization): no query per row."""
    return Works.objects.public().select_related("category", "organization")


def works_detail() -> QuerySet[Works]:
    """Public works with their areas and periods prefetched."""
    return works_list().prefetch_related("areas", "periods")
