"""Sites, devices, credentials, users/roles and audit: the one place that knows what exists and where."""
