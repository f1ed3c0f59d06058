"""Benchmarks of runpod-typed beside the official `runpod` package, on the local emulator.

`python -m bench.run --out bench/results.md` (all scenarios) or `--quick` (tiny sizes).
"""
