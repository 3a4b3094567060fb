"""Pydantic schemas of the REST API and CLI: create, update and public shapes kept apart."""
