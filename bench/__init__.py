"""Benchmark suite: a deterministic data generator (generate.py) and the harness (run.py).

Run it with ``make bench`` (city and nation scale) or ``make bench-full`` (adds nation x10).
"""
