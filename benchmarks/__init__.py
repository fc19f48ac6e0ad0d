"""Benchmarks of the lab's local cloud: ``python -m benchmarks`` prints one JSON object."""
