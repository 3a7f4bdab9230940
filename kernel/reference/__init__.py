"""Jurisdiction reference data (streets, designated institutions) that the district office maintains.

It is data, not a service: each service reads the same file, never another service's database.
"""

from kernel.reference.jurisdiction import (
    AssessmentInstitution,
    Jurisdiction,
    Quota,
    ServiceInstitution,
    deployment_reference,
    load_jurisdiction,
)

__all__ = [
    "AssessmentInstitution",
    "Jurisdiction",
    "Quota",
    "ServiceInstitution",
    "deployment_reference",
    "load_jurisdiction",
]
