"""Benchmarks for DESIGN.md section 9: run `python -m bench.<name> --help` from the repo root."""
