"""CAP 1.2 (OASIS Common Alerting Protocol): build, validate, parse, and the Atom feed."""
