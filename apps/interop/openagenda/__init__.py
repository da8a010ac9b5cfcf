"""OpenAgenda v3: import of a city's agenda (``sync``) and its contract (``contract``)."""
