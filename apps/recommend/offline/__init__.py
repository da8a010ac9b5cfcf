"""Offline: fitting stage 2, the training job, the simulated city, evaluation, metrics."""
