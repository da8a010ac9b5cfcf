"""Signals other apps receive to keep their device-owned rows in step (architecture.md §2).

Both are sent inside the service's transaction; receivers write in it too.
"""

from django.dispatch import Signal

#: A new device took over an old one with a transfer code, just before the old one is deleted.
#: kwargs: ``old_device``, ``new_device``. Receivers move what should follow the resident
#: (rows left on ``old_device`` are erased with it).
device_transferred = Signal()

#: A device withdrew its personalization consent. kwargs: ``device``. Receivers erase what was
#: collected under that consent (the interaction log).
personalization_withdrawn = Signal()

#: Devices were erased (``DELETE /me/``, the inactivity purge, a transfer's old device); sent
#: after the transaction commits. kwargs: ``device_ids``. Receivers remove what they keep
#: outside the database about them (cached feed snapshots).
devices_erased = Signal()

#: A device's places or follows changed (``/me/places/``, ``/me/interests/``, preferences);
#: sent inside the service's transaction. kwargs: ``device_id``. Receivers drop what they
#: cached from them (the feed's resident inputs).
profile_changed = Signal()
