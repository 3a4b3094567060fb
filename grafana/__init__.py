"""Dashboards as code, provisioning files and the Grafana API client."""
