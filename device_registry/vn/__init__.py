"""Vietnam's administrative units, before and after the July 2025 reform, from a shipped extract."""
