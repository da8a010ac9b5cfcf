"""App configuration of the bench city generator and the API diagnostics endpoints."""

from django.apps import AppConfig


class BenchCityConfig(AppConfig):
    name = "bench.city"
    label = "benchcity"
    verbose_name = "Bench city"
