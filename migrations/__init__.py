"""The schema of every service's store as Alembic migrations (docs/adr/0018-schema-migrations.md).

One environment; each part of a store is a branch with its own base: ``kernel`` (events, outbox,
inbox, kept answers, parked events, reconciliation checkpoints, the audit log), and one branch per
service for its own tables, labelled with the service's name. A service's database holds the
kernel's branch and its own; ``kernel.store.schema`` applies them under a lock at start-up.
"""
