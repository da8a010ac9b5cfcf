"""Writes on residents' data (HackSoft style: keyword-only, one transaction each)."""

from .devices import (
    PREFERENCE_FIELDS,
    device_erase,
    device_preferences_update,
    device_push_token_set,
    device_register,
    device_touch,
    devices_purge_inactive,
)
from .drill import drill_code_create, drill_enrol, drill_unenrol
from .profile import (
    interests_set,
    place_create,
    place_delete,
    place_update,
    saved_item_add,
    saved_item_remove,
    saved_items_forget_item,
)
from .transfer import device_register_by_transfer, transfer_code_create, transfer_codes_purge

__all__ = [
    "PREFERENCE_FIELDS",
    "device_erase",
    "device_preferences_update",
    "device_push_token_set",
    "device_register",
    "device_register_by_transfer",
    "device_touch",
    "devices_purge_inactive",
    "drill_code_create",
    "drill_enrol",
    "drill_unenrol",
    "interests_set",
    "place_create",
    "place_delete",
    "place_update",
    "saved_item_add",
    "saved_item_remove",
    "saved_items_forget_item",
    "transfer_code_create",
    "transfer_codes_purge",
]
