"""News articles published by the city and its partners."""
