"""``bench_city``."""
