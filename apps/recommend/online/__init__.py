"""Online: the feed service, the candidate SQL, snapshots and the HTTP API."""
