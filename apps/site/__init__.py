"""The public website of the city's items: pages, Atom feeds, embeddable widgets, app links."""
