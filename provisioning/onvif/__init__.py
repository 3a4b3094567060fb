"""ONVIF cameras and NVRs: client, probe, WS-Discovery and onboarding."""
