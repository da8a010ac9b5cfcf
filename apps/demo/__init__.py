"""The demo city: ``python manage.py seed_demo`` builds a believable French city to explore."""
