"""The two-step sign-off of a block (docs/adr/0008): domain, store, handlers, HTTP API."""
