"""Core models: organizations, areas, categories, the content base and sync tombstones."""

from .content import ContentQuerySet, PublishableContent, Status, Urgency
from .sync import Tombstone
from .taxonomy import Area, AreaKind, Category, Membership, Organization

__all__ = [
    "Area",
    "AreaKind",
    "Category",
    "ContentQuerySet",
    "Membership",
    "Organization",
    "PublishableContent",
    "Status",
    "Tombstone",
    "Urgency",
]
