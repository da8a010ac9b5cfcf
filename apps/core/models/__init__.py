"""Core models: organizations, areas, categories, the content base and sync tombstones."""

from .api_keys import OrganizationApiKey
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
    "OrganizationApiKey",
    "PublishableContent",
    "Status",
    "Tombstone",
    "Urgency",
]
