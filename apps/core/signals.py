"""Content lifecycle signals: how content apps tell others (notifications, caches) what happened.

They are sent *inside* the service's transaction, so a receiver can write rows (an outbox)
that commit or roll back with the change; receivers defer side effects with
``transaction.on_commit``. Content apps never import their receivers (architecture.md §2).
"""

from django.dispatch import Signal

#: An item became public. kwargs: ``item``.
content_published = Signal()
#: A public item changed materially. kwargs: ``item``, ``changes`` (field names).
content_changed = Signal()
#: An item left the public set. kwargs: ``item_type``, ``item_id``, ``reason``.
content_removed = Signal()
#: Any write to an item (cache invalidation). kwargs: ``item_type``, ``item_id``.
content_saved = Signal()
#: Many new items became public at once (a bulk import). kwargs: ``items`` (one model).
#: Receivers of ``content_published`` handle these too, once for the batch.
contents_published = Signal()
#: Many new items were written at once. kwargs: ``item_type``, ``item_ids``. Receivers of
#: ``content_saved`` handle these too, once for the batch.
contents_saved = Signal()
