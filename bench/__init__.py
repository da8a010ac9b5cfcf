"""Benchmarks and their tooling: the fake FCM server, load and fan-out measurements."""
