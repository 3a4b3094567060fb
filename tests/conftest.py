"""Fixtures shared by every test area. Area fixtures live in ``tests/<area>/conftest.py``."""
