"""The messaging layer: outbox relay, ordered idempotent consumers, signing, dead letters, retention."""
