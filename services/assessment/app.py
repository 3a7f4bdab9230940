"""Composition root of the assessment service (designated assessment institutions 定点康复评估机构)."""

from __future__ import annotations

from fastapi import FastAPI
from rehab_contracts import ASSESSMENT, ASSESSMENT_STREAM

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction
from kernel.runtime import ServiceSettings, create_service_app
from services.assessment.api import router
from services.assessment.handlers import subscriptions
from services.assessment.projection import tables
from services.assessment.translation import network_of


def create_app(settings: ServiceSettings | None = None, jurisdiction: Jurisdiction | None = None) -> FastAPI:
    """The assessment service's app; nothing connects until it starts."""
    settings = settings or ServiceSettings(service=ASSESSMENT)
    app = create_service_app(
        settings,
        title="Assessment service — designated assessment institutions 定点康复评估机构",
        description=(
            "Keeps the worklist of surveyed persons with needs (consumes survey.need_surveyed), records "
            "康复需求评估与转介记录 and referrals. Publishes assessment.assessment_completed and "
            "assessment.referral_issued."
        ),
        routers=[router],
        publishes_to=ASSESSMENT_STREAM,
        subscriptions=subscriptions(),
        tables=tables,
    )
    jurisdiction = jurisdiction or load_jurisdiction(deployment_reference())
    app.state.network = network_of(jurisdiction)
    app.state.jurisdiction = jurisdiction
    return app
