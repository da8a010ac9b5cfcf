"""REST endpoints of interop: the open roadworks feeds under ``/api/v1/feeds/``."""
