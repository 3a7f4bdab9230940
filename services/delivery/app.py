"""Composition root of the delivery service: its API, the approvals it consumes, its entitlements table."""

from __future__ import annotations

from fastapi import FastAPI
from rehab_contracts import (
    APPROVAL_STREAM,
    DELIVERY,
    DELIVERY_STREAM,
    ApplicationApproved,
    InstitutionChangeApproved,
)

from kernel.messaging.consumer import Subscription
from kernel.reference import deployment_reference, load_jurisdiction
from kernel.runtime import ServiceSettings, create_service_app
from services.delivery import handlers
from services.delivery.api import router
from services.delivery.tables import tables

DESCRIPTION = """\
提供康复服务: the designated service institutions 定点康复服务机构 record each service delivered
(服务项目, 服务频次, 服务周期, 服务人员) signed by the person or guardian. The record is the basis of
settlement, so it is kept only when it matches an approved item: same person, application, item,
year and institution.

Consumes the approvals of 区残联办 as entitlements and its approved changes of institution
(from the approved day the new institution delivers the item); rejections are archived.
"""


def create_app(settings: ServiceSettings | None = None, jurisdiction: str | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service=DELIVERY)
    approvals = {
        ApplicationApproved.event_type: handlers.on_application_approved,
        InstitutionChangeApproved.event_type: handlers.on_institution_change_approved,
    }
    app = create_service_app(
        settings,
        title="Delivery 提供康复服务",
        description=DESCRIPTION,
        routers=[router],
        publishes_to=DELIVERY_STREAM,
        # application_rejected and the other approval events are archived in the inbox only.
        subscriptions=[Subscription(APPROVAL_STREAM, handlers=approvals)],
        tables=tables,
    )
    app.state.jurisdiction = load_jurisdiction(jurisdiction or deployment_reference())
    return app
