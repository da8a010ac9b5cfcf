"""Core models: organizations, areas, categories, the content base and sync tombstones."""

from .api_keys import OrganizationApiKey
from .content import ContentQuerySet, PublishableContent, Status, Urgency
from .history import AuditedHistory, audited, audited_translated
from .sync import Tombstone
from .taxonomy import Area, AreaKind, Category, Membership, Organization

__all__ = [
    "Area",
    "AreaKind",
    "AuditedHistory",
    "Category",
    "ContentQuerySet",
    "Membership",
    "Organization",
    "OrganizationApiKey",
    "PublishableContent",
    "Status",
    "Tombstone",
    "Urgency",
    "audited",
    "audited_translated",
]
