"""What tests and benchmarks share: the fake FCM, the push worker harness, servers to break."""
