"""Evaluation: tasks, metrics, comparison reports (quality and, later, safety suites and gates)."""
