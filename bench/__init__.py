"""Benchmarks: scripts that print numbers (not tests); run them as ``python -m bench.<name>``."""
