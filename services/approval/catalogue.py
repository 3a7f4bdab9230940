"""What the form 附件2 says about items, levels and attachments, as plain codes (the contracts' values)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from services.approval.events import Submission

CATARACT_SURGERY: Final = "cataract_surgery"
SELF_PURCHASED_DEVICE_SUBSIDY: Final = "self_purchased_device_subsidy"

ITEMS_NAMING_INSTITUTIONS: Final = frozenset(
    {
        "orientation_mobility_training",
        "low_vision_training",
        "support_service_midlife_blind",
        "support_service_mental",
    }
)
"""Items 4-6 of the form, where the applicant ticks or writes the service institution 服务机构."""

SUPPORT_SERVICE_CATEGORIES: Final[Mapping[str, str]] = {
    "support_service_midlife_blind": "vision",
    "support_service_mental": "mental",
}
"""支持性服务 items and the disability category each serves: one application per category per year."""

SUBSISTENCE_ALLOWANCE: Final = "subsistence_allowance"
VISION: Final = "vision"

COMMUNITY: Final = "community"
STREET: Final = "street"
FREE: Final = "free"
FIXED_AMOUNT: Final = "fixed_amount"

ID_CARD_COPY: Final = "id_card_copy"
DISABILITY_CERTIFICATE_COPY: Final = "disability_certificate_copy"
HOUSEHOLD_REGISTER_COPY: Final = "household_register_copy"
SERVICE_HANDBOOK: Final = "service_handbook"
SUBSISTENCE_CERTIFICATE_COPY: Final = "subsistence_certificate_copy"


def required_attachments(submission: Submission) -> tuple[str, ...]:
    """申请需附资料 of one form (填表说明 3 and 4).

    身份证、残疾证、户口簿复印件 for every applicant, except the certificate copy of a disabled child
    without a certificate 未持证残疾儿童, who is served too and has none (附件2 残疾人证号: 持证残疾人必填).
    """
    required = [ID_CARD_COPY]
    if submission.certified:
        required.append(DISABILITY_CERTIFICATE_COPY)
    required.append(HOUSEHOLD_REGISTER_COPY)
    # 4. 非视力残疾人申请白内障复明手术，可不附残疾人精准康复服务手册
    cataract_only = submission.items == {CATARACT_SURGERY}
    if not (cataract_only and VISION not in submission.disability_categories):
        required.append(SERVICE_HANDBOOK)
    if submission.economic_status == SUBSISTENCE_ALLOWANCE:
        required.append(SUBSISTENCE_CERTIFICATE_COPY)
    return tuple(required)
