"""The jurisdiction this deployment settles for: the pack every service follows (``REHAB_REFERENCE``, a
folder name in deploy/jurisdictions or a path; the default pack, Liangjiang, when unset)."""

from __future__ import annotations

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction


def deployment_jurisdiction() -> Jurisdiction:
    """The public view of the deployment's pack (read and checked once per name, then cached)."""
    return load_jurisdiction(deployment_reference())


def settled_jurisdiction() -> str:
    """Whose policies price the facts: the ``jurisdiction`` id of the deployment's pack."""
    return deployment_jurisdiction().jurisdiction
