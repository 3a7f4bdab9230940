"""The HTTP layer: problem+json errors, idempotent commands, request limits and guards."""
