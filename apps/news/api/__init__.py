"""REST API of news: ``/api/v1/news/``."""
