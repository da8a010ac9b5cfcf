"""Views of the public site: item pages, Atom feeds, widgets, app-link files."""
