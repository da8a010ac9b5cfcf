"""The personalized feed: candidates from the database, the engine's ranking, snapshots."""
