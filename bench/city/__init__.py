"""The bench city: a generated city of 500,000 people for load tests (``bench_city``)."""
