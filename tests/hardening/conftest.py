"""Hardening tests (issue 14): each finding's attack against a live app, then the refusal, that nothing
was written, and that the server still answers. They share the registry's world (tests/registry/seed.py)."""
