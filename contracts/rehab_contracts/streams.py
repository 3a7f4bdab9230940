"""Names of the Redis streams events travel on and ids of the agencies that produce them."""

from __future__ import annotations

from typing import Final

# Agency ids: the ``producer`` of an event and the consumer-group name of its service.
SURVEY: Final = "survey"
"""Street office 街道 with its community survey team: needs survey 康复需求调查."""
ASSESSMENT: Final = "assessment"
"""Designated assessment institutions 定点康复评估机构: assessment and referral 评估转介."""
APPROVAL: Final = "approval"
"""Community 居委会, street 街道办事处 and district federation office 区残联办: 申请审批."""
DELIVERY: Final = "delivery"
"""Designated service institutions 定点康复服务机构: service delivery 提供康复服务."""
SETTLEMENT: Final = "settlement"
"""District federation office with the finance bureau 财政局: settlement 费用结算 (consumes only)."""

SURVEY_STREAM: Final = "rehab.survey.events"
ASSESSMENT_STREAM: Final = "rehab.assessment.events"
APPROVAL_STREAM: Final = "rehab.approval.events"
DELIVERY_STREAM: Final = "rehab.delivery.events"

ALL_STREAMS: Final = (SURVEY_STREAM, ASSESSMENT_STREAM, APPROVAL_STREAM, DELIVERY_STREAM)
"""Every producer stream, in the order of the workflow."""

STREAM_OF_PRODUCER: Final[dict[str, str]] = {
    SURVEY: SURVEY_STREAM,
    ASSESSMENT: ASSESSMENT_STREAM,
    APPROVAL: APPROVAL_STREAM,
    DELIVERY: DELIVERY_STREAM,
}
"""The one stream each producing agency publishes on (settlement publishes no events)."""
