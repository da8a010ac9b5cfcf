"""Writes of public alerts: CAP messages out (``cap_out``), CAP sources in (``cap_in``)."""

from .cap_in import cap_document_receive, cap_source_poll
from .cap_out import cap_item_cancel, cap_item_publish

__all__ = ["cap_document_receive", "cap_item_cancel", "cap_item_publish", "cap_source_poll"]
