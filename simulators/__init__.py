"""Fake devices that speak the real protocols, for tests, benchmarks and the demo fleet."""
