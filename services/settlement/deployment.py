"""The jurisdiction this deployment settles for: the reference data every service follows
(``REHAB_REFERENCE``, a name in deploy/reference or a path; Liangjiang by default)."""

from __future__ import annotations

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction


def deployment_jurisdiction() -> Jurisdiction:
    """Streets and institutions of the deployment's reference data (read once per name, then cached)."""
    return load_jurisdiction(deployment_reference())


def settled_jurisdiction() -> str:
    """Whose policies price the facts: the ``jurisdiction`` id of the deployment's reference data."""
    return deployment_jurisdiction().jurisdiction
