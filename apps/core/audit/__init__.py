"""The audit trail of content, taxonomy, API keys and pushes (docs/privacy.md, "Audit trail").

``actors`` says who acted (a staff user, an API key, an import, a task) on every history row
and holds the helpers bulk writes must call; ``trail`` reads the history tables and turns them
into who / when / what changed rows; ``export`` writes those rows as CSV or JSON for a CADA
request; ``admin`` is the "Historique" page and the staff export view.
"""
