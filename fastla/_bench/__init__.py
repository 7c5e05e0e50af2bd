"""The benchmark report command, `python -m fastla bench` (fastla-bench), and the
benchmark problems it shares with the pytest-benchmark suite in benchmarks/."""
