"""Read-side queries of the registry, kept out of the route functions and shared by API and CLI."""
