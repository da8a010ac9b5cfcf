"""The pure ranking engine: candidates as arrays, features, ranking, diversity, explanations.

No module here imports Django, DRF or another app (tests/recommend/test_layout.py): the
offline evaluation and the feed run exactly this code, and it is tested without a database.
"""
