"""WZDx 4.2 (Work Zone Data Exchange): the open GeoJSON feed and its import."""
