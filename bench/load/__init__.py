"""The HTTP load test: scenarios, the locustfile, gunicorn under test and the report."""
