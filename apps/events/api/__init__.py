"""REST API of events: ``/api/v1/events/`` and its iCalendar feeds."""
