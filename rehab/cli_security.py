"""`rehab keys generate | rotate | revoke | list`: the agencies' event-signing keys."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rehab.services import SERVICES


def default_keys_dir() -> Path:
    """$REHAB_KEYS_DIR, else the keys folder of $REHAB_VAR_DIR (./var by default)."""
    if configured := os.environ.get("REHAB_KEYS_DIR"):
        return Path(configured)
    return Path(os.environ.get("REHAB_VAR_DIR", "var")) / "keys"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser(
        "keys",
        help="the agencies' Ed25519 keys that sign events (docs/security.md)",
        description="Each agency signs the events it publishes; consumers verify them with its public keys.",
    )
    actions = keys.add_subparsers(title="actions", metavar="ACTION", required=True)
    generate = actions.add_parser("generate", help="an agency's first key pair")
    rotate = actions.add_parser(
        "rotate", help="a new key pair for an agency; its older public keys keep verifying old events"
    )
    revoke = actions.add_parser("revoke", help="stop trusting a key (events it signed are dead-lettered)")
    listing = actions.add_parser("list", help="every key, with the one each agency signs with")
    for parser in (generate, rotate, revoke):
        parser.add_argument("--agency", required=True, choices=SERVICES)
    revoke.add_argument("--key-id", required=True, help="as `rehab keys list` shows it")
    for parser in (generate, rotate, revoke, listing):
        parser.add_argument(
            "--dir",
            type=Path,
            default=default_keys_dir(),
            help="the key directory (default $REHAB_KEYS_DIR, else $REHAB_VAR_DIR/keys, else ./var/keys)",
        )
    generate.set_defaults(run=_generate)
    rotate.set_defaults(run=_rotate)
    revoke.set_defaults(run=_revoke)
    listing.set_defaults(run=_list)


def _generate(args: argparse.Namespace) -> int:
    from rehab.keys import KeysExist, generate

    try:
        key_id = generate(args.dir, args.agency)
    except KeysExist as exists:
        print(exists, file=sys.stderr)
        return 1
    private = args.dir / args.agency / f"{key_id}.key"
    print(f"{args.agency} signs with new key {key_id} (private key {private}, mode 0600)")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from rehab.keys import rotate

    key_id = rotate(args.dir, args.agency)
    print(
        f"{args.agency} now signs new events with key {key_id}; its earlier public keys still verify "
        f"the events they signed. Copy {args.dir / args.agency / key_id}.pub to every other machine's "
        "key directory."
    )
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from rehab.keys import UnknownKey, revoke

    try:
        revoke(args.dir, args.agency, args.key_id)
    except UnknownKey as unknown:
        print(unknown, file=sys.stderr)
        return 1
    print(f"key {args.key_id} of {args.agency} is revoked: events it signed will be dead-lettered")
    return 0


def _list(args: argparse.Namespace) -> int:
    from rehab.keys import list_keys, render

    print(render(list_keys(args.dir)), end="")
    return 0
