"""REST API of roadworks: ``/api/v1/works/``."""
