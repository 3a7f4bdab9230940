"""The eventing kernel every service uses: event store, outbox relay, idempotent consumers, runtime."""
