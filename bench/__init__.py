"""Benchmarks against the local fakes; each writes its own section of docs/benchmarks.md. Not run by pytest."""
