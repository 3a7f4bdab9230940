"""The event store layer: events, outbox, inbox, kept answers of keyed commands, the SQL engines."""
