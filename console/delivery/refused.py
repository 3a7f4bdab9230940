"""被退回的服务记录: what the console makes of a record the delivery service refused and kept — the form
filled in again from it, and whether it can be resent under an item still fixed to the institution."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from console.labels import cn_date
from console.web import FormValues

REFUSED_PURPOSE = "服务：被退回的服务记录"

FORM_FIELDS = ("frequency", "staff", "period_start", "period_end", "signed_by", "signed_on")
"""Fields of the record the form shows as sent; amounts are shown in yuan, dates as the clerk writes them."""
DATES = ("period_start", "period_end", "signed_on")


def refused_form(refused: Mapping[str, Any]) -> FormValues:
    """The 康复服务记录 form as the refused record was sent: the clerk corrects what the reason names."""
    record = refused["record"]
    values: dict[str, Any] = {name: record.get(name) for name in FORM_FIELDS}
    values["signed_by"] = values["signed_by"] or "person"
    for name in DATES:
        values[name] = cn_date(values[name])
    for name in ("charge", "insurance_paid"):
        amount = record.get(f"{name}_fen")
        values[name] = yuan(amount) if isinstance(amount, int) else ""
    return FormValues.of(values)


def yuan(fen: int) -> str:
    """Fen as the form takes yuan: 15000 -> 150.00."""
    return str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def resendable(refused: Mapping[str, Any], entitlements: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the refused record's application still has its item approved to this institution: then the
    form can be opened for it; a record of an item never approved cannot be corrected into one."""
    record = refused["record"]
    return any(
        entitlement["application_id"] == record.get("application_id")
        and entitlement["item"] == record.get("item")
        and entitlement.get("current_institution_id")
        for entitlement in entitlements
    )
