"""Measuring any loadable model on held-out music, beside a baseline: see docs/evaluation.md."""
