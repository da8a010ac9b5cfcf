"""Exchange of roadworks with other systems: open feeds (WZDx, CIFS, DATEX II) and imports."""
