"""Hardening tests: fuzzing, hostile images, load, security headers and workers.

A package, so that its conftest is imported as hardening.conftest and never takes the
place of another folder's `conftest` module (tests/app imports helpers from its own).
"""
