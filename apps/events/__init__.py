"""Events: dates and recurrence, venues, offers, audiences; iCalendar."""
