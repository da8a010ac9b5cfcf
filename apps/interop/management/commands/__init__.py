"""``import_works``."""
