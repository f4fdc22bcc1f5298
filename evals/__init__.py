"""Evaluations: replays of reference tasks and scenario suites."""
