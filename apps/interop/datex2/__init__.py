"""DATEX II v3 with DiaLog's extensions: the traffic regulation feed and its import."""
