"""Core models: organizations, areas, categories, the content base, approvals, sync tombstones."""

from .api_keys import OrganizationApiKey
from .approvals import ApprovalAction, ApprovalRequest, ApprovalState
from .content import ContentQuerySet, PublishableContent, Status, Urgency
from .sync import Tombstone
from .taxonomy import Area, AreaKind, Category, Membership, Organization

__all__ = [
    "ApprovalAction",
    "ApprovalRequest",
    "ApprovalState",
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
