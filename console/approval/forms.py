"""The sign-off blocks of 附件2 as the approval API's bodies: a level's opinion, the office's decision."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from decimal import Decimal
from typing import Any

from console.agencies import Problem
from console.street.forms import iso_date
from console.web import FormValues

AMOUNT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
"""An amount of 元 as a clerk types it, separators and 元 removed: ASCII digits, a decimal point (a minus
sign too: the service refuses a negative amount in its own words)."""
NOT_AN_AMOUNT = "金额应为不小于 0 的元数，最多两位小数，如 1200 或 1200.50"
"""The console's message at an amount field whose text is no amount of 元 (the service's own, about the
type of ``amount_fen``, would read 应为整数)."""

ROLES = ("responsible", "reviewer", "handler")


def signatories(form: FormValues, roles: tuple[str, ...] = ROLES) -> dict[str, str]:
    """负责人 / 复核人 / 经办人 as written: blanks left out, so the service names the missing one."""
    return {role: value for role in roles if (value := form.get(f"signatories.{role}").strip())}


def review_body(form: FormValues, level: str) -> dict[str, Any]:
    """POST /applications/{id}/reviews: 社区意见 (负责人, 经办人) or 街道意见 (with a 复核人)."""
    roles = ("responsible", "handler") if level == "community" else ROLES
    body: dict[str, Any] = {"level": level, "signatories": signatories(form, roles)}
    if form.get("endorsed") in ("yes", "no"):
        body["endorsed"] = form.get("endorsed") == "yes"
    for name in ("opinion", "reviewed_on"):
        if value := form.get(name).strip():
            body[name] = iso_date(value) if name == "reviewed_on" else value
    return body


def fen(text: str) -> int | str | None:
    """An amount in 元 as typed (1200, 1,200.50, 1200元, full-width １２００ from a Chinese IME) in fen;
    blank None (the service says it is required); a negative amount in fen too (the service refuses it
    in its words); anything else (inf, 12.345) as typed, to be refused."""
    if not text.strip():
        return None
    typed = unicodedata.normalize("NFKC", text).strip()  # full-width digits, ，．－ as ASCII
    cleaned = typed.replace(",", "").replace("，", "").removesuffix("元").strip()
    if not AMOUNT.fullmatch(cleaned):  # inf, 1e3, 1_000 and other scripts' digits are no amount of 元
        return text.strip()
    cents = Decimal(cleaned) * 100
    return int(cents) if cents == cents.to_integral_value() else text.strip()


def decision_body(form: FormValues, requested: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /applications/{id}/decision: each requested item 免费, 定额 (amount) or refused with a reason;
    or the whole application rejected with a reason."""
    body: dict[str, Any] = {"signatories": signatories(form)}
    if decided_on := form.get("decided_on").strip():
        body["decided_on"] = iso_date(decided_on)
    if form.get("outcome") == "rejected":
        body.update(outcome="rejected", reason=form.get("reason").strip() or None)
        return body
    approved: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for entry in requested:
        item = entry["item"]
        mode = form.get(f"mode.{item}")
        if mode == "refused":
            refused.append({"item": item, "reason": form.get(f"item_reason.{item}").strip()})
        elif mode in ("free", "fixed_amount"):
            decided: dict[str, Any] = {"item": item, "subsidy_mode": mode}
            if entry.get("institution_id"):
                decided["institution_id"] = entry["institution_id"]
            if mode == "fixed_amount" and (amount := fen(form.get(f"amount.{item}"))) is not None:
                decided["amount_fen"] = amount
            approved.append(decided)
    body.update(outcome="approved", approved_items=approved, rejected_items=refused)
    return body


def at_item_fields(problem: Problem, body: dict[str, Any]) -> Problem:
    """Messages about ``approved_items.0.amount_fen`` at the item's own field (amount.<item>)."""
    fields = {"approved_items": ("amount", "amount_fen"), "rejected_items": ("item_reason", "reason")}
    errors: list[tuple[str, str]] = []
    for name, message in problem.errors:
        parts = name.split(".")
        if len(parts) == 3 and parts[0] in fields and parts[1].isdigit() and parts[2] == fields[parts[0]][1]:
            entries = body.get(parts[0]) or []
            if int(parts[1]) < len(entries):
                entry = entries[int(parts[1])]
                name = f"{fields[parts[0]][0]}.{entry['item']}"
                if isinstance(entry.get("amount_fen"), str):  # sent as typed: no amount of 元
                    message = NOT_AN_AMOUNT
        errors.append((name, message))
    return replace(problem, errors=tuple(errors))


def submission_body(form: FormValues, referral: dict[str, Any], street: str) -> dict[str, Any]:
    """POST /applications: the 补助申请审批表 as the community hands it in, backed by one referral."""
    body: dict[str, Any] = {
        "person_id": referral["person_id"],
        "referral_id": referral["referral_id"],
        "street": street,
        "requested_items": [
            {"item": item, "institution_id": referral["to_institution_id"]}
            for item in form.all("requested_items")
        ],
        "attachments": form.all("attachments"),
        "disability_categories": form.all("disability_categories"),
        "certified": form.get("certified") != "no",
    }
    for name in ("serial_number", "economic_status", "applicant_role", "application_year"):
        if value := form.get(name).strip():
            body[name] = value
    if submitted_on := form.get("submitted_on").strip():
        body["submitted_on"] = iso_date(submitted_on)
    return body
