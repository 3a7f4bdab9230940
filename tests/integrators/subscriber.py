"""An integrator's subscriber to rehab's approval events: FastStream, its own consumer group, plain-JSON
entries, each one's Ed25519 signature verified before it is used (docs/integrators.md shows this file).

Run: REDIS_URL=redis://... REHAB_KEYS_DIR=/path/to/public/keys python subscriber.py
Needs: pip install "faststream[redis]" cryptography ./contracts
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from rehab_contracts import EventEnvelope, parse_payload

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
KEYS_DIR = Path(os.environ.get("REHAB_KEYS_DIR", "keys"))
STREAM = "rehab.approval.events"
GROUP = os.environ.get("GROUP", "welfare-office")  # your own group: rehab's services never share it

broker = RedisBroker(REDIS_URL)
app = FastStream(broker)


class Refused(Exception):
    """The entry is unsigned, tampered with, or not signed by a key of its producer."""


def public_keys(producer: str) -> dict[str, Ed25519PublicKey]:
    """The producer's public keys (``<key id>.pub``, as ``rehab keys`` writes them), revoked ones left out."""
    folder = KEYS_DIR / producer
    revoked_file = folder / "revoked"
    revoked = set(revoked_file.read_text().split()) if revoked_file.exists() else set()
    keys = {}
    for path in folder.glob("*.pub"):
        key = load_pem_public_key(path.read_bytes())
        if path.stem not in revoked and isinstance(key, Ed25519PublicKey):
            keys[path.stem] = key
    return keys


def verified(fields: Mapping[bytes, bytes]) -> EventEnvelope:
    """The entry as an envelope, once its signature is checked against its producer's keys."""
    envelope = EventEnvelope.from_wire(fields)  # every field is plain text; payload is JSON text
    scheme, _, rest = (envelope.signature or "").partition(":")
    key_id, _, encoded = rest.rpartition(":")
    key = public_keys(envelope.producer).get(key_id)
    if scheme != "ed25519" or key is None:
        raise Refused(f"not signed by a key of {envelope.producer}: {key_id or 'unsigned'}")
    # What the producer signed: every field but the signature, keys sorted, compact, UTF-8.
    unsigned = envelope.model_dump(mode="json", exclude={"signature"})
    canonical = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        key.verify(base64.b64decode(encoded), canonical.encode("utf-8"))
    except (InvalidSignature, ValueError) as error:
        raise Refused(f"signature of {key_id} does not match") from error
    return envelope


@app.on_startup
async def create_group() -> None:
    """Create the group at the start of the stream (0): the first run reads the whole backlog."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as error:
        if "BUSYGROUP" not in str(error):  # the group exists: carry on where it stands
            raise
    finally:
        await redis.aclose()


@broker.subscriber(stream=StreamSub(STREAM, group=GROUP, consumer="worker-1"))
async def on_approval_event(message: RedisStreamMessage) -> None:
    """FastStream acknowledges (XACK) when this returns; a refused entry stays pending, for a person."""
    entry_id = message.raw_message["message_ids"][0].decode()
    try:
        envelope = verified(message.raw_message["data"])
    except (Refused, ValueError) as refused:
        print(f"refused {entry_id}: {refused}", flush=True)
        await message.nack()
        return
    payload = parse_payload(envelope)  # the contracts' model of its type and schema version
    # Deduplicate on envelope.event_id: delivery is at least once.
    print(f"received {envelope.event_type} {envelope.event_id} {payload.model_dump_json()}", flush=True)


if __name__ == "__main__":
    asyncio.run(app.run())
