"""MQTT on the broker side: topic scheme, per-device credentials, Mosquitto password/ACL/config files."""
