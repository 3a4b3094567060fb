"""Registry tests use the shared database and API fixtures of tests/conftest.py."""
