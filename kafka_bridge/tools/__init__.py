"""Helpers for tests, benchmarks and the load test: where topics end, consumer groups that start there."""
