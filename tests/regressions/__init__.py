"""Regression tests for bugs found by a review that set out to break tcbase."""
