"""Composition root of the approval service: its API, the referrals it consumes, its own tables."""

from __future__ import annotations

from fastapi import FastAPI
from rehab_contracts import APPROVAL, APPROVAL_STREAM, ASSESSMENT_STREAM, ReferralIssued

from kernel.messaging.consumer import Subscription
from kernel.reference import deployment_reference, load_jurisdiction
from kernel.runtime import ServiceSettings, create_service_app
from services.approval import handlers
from services.approval.api import router
from services.approval.sign_off.api import router as sign_off_router
from services.approval.tables import tables

DESCRIPTION = """\
补助申请审批 (附件2): the community 居委会 receives the form, the community and the street 街道办事处
review and sign it in that order, and the district federation office 区残联办 approves item by item
(free 免费 or fixed amount 定额补助) and issues the service card 服务卡, or rejects it.
区残联办 also approves changes of the service institution fixed for an approved item (变更).

Consumes the assessment institutions' referrals 转介: an application may only ask for referred items.
"""


def create_app(settings: ServiceSettings | None = None, jurisdiction: str | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service=APPROVAL)
    app = create_service_app(
        settings,
        title="Approval 申请审批",
        description=DESCRIPTION,
        routers=[router, sign_off_router],
        publishes_to=APPROVAL_STREAM,
        subscriptions=[
            # assessment_completed and every other type are archived in the inbox only.
            Subscription(
                ASSESSMENT_STREAM, handlers={ReferralIssued.event_type: handlers.on_referral_issued}
            ),
        ],
        tables=tables,
    )
    app.state.jurisdiction = load_jurisdiction(jurisdiction or deployment_reference())
    return app
