"""Discovery and onboarding per protocol. Each protocol's client lives here, in one place only."""
