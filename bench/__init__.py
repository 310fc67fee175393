"""Benchmarks of Memberdesk against the vanilla Flask-Admin baseline (not tests)."""
