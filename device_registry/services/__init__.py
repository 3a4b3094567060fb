"""Write operations of the registry: validation, authorisation, audit, all in the caller's transaction."""
