"""Jurisdiction packs (ADR 0013): the areas, designated institutions, policies and deployment inputs of a
place, one folder each under deploy/jurisdictions/, that the district office maintains.

It is data, not a service: each service reads the same folder, never another service's database.
"""

from kernel.reference.jurisdiction import (
    AssessmentInstitution,
    Jurisdiction,
    Quota,
    ServiceInstitution,
    deployment_reference,
)
from kernel.reference.pack import load_jurisdiction

__all__ = [
    "AssessmentInstitution",
    "Jurisdiction",
    "Quota",
    "ServiceInstitution",
    "deployment_reference",
    "load_jurisdiction",
]
