"""MQTT ingest: payload parsing (our JSON format and SenML), dead letters, last-seen, the ingest service."""
