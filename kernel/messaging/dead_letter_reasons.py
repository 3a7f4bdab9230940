"""Why an entry was dead-lettered, in three parts: a short Chinese sentence for the operator (`rehab dlq
list`, `rehab verify`), a machine code, and the full technical text for developers.

The sentence names what is wrong and, for an event that breaks its contract, the field paths
(``payload.amount_fen``); never pydantic's multi-line dump with its URLs, which stays in the detail.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from rehab_contracts.registry import UnexpectedProducer, UnknownEventType, UnsupportedSchemaVersion

from kernel.messaging.freshness import RecordedInTheFuture
from kernel.messaging.outcomes import EventConflict, EventRejected, describe
from kernel.messaging.signing import SignatureRejected

FIELDS_SHOWN = 5
"""Field paths a reason names at most (the detail has them all)."""

_FIELD_PROBLEMS = {"missing": "缺少", "extra_forbidden": "多余"}
"""pydantic's error types a field path is shown with; any other is 值无效 (invalid value)."""


@dataclass(frozen=True)
class DeadLetterReason:
    """Why an entry was dead-lettered."""

    code: str
    """Stable machine code, e.g. ``event.invalid``."""
    text: str
    """One short Chinese sentence ending with the code in brackets, for the operator."""
    detail: str
    """The exception's type and whole message (English, possibly multi-line), for developers."""


def reason_of(
    error: BaseException, *, attempts: int | None = None, after_parking: bool = False
) -> DeadLetterReason:
    """The reason for ``error``; ``attempts`` when it failed on each of that many deliveries (a bug)."""
    detail = describe(error)
    if attempts is not None:
        where = "attempts after parking" if after_parking else "deliveries"
        detail = f"failed on each of {attempts} {where}; last: {detail}"
        tried = f"暂存后尝试 {attempts} 次" if after_parking else f"投递 {attempts} 次"
        return _reason(
            "delivery.failed", f"{tried}均失败（程序错误 {type(error).__name__}，详见 detail）", detail
        )
    code, text = _classified(error)
    return _reason(code, text, detail)


def _reason(code: str, text: str, detail: str) -> DeadLetterReason:
    return DeadLetterReason(code, f"{text}［{code}］", detail[:4000])


def _classified(error: BaseException) -> tuple[str, str]:
    """(code, sentence) by the kind of error, the most specific first."""
    if isinstance(error, UnicodeDecodeError):
        return "entry.not_utf8", "条目含有不是 UTF-8 文本的字节，无法解码"
    if isinstance(error, ValidationError):
        return "event.invalid", f"事件不符合契约 {error.title}：{_fields(error)}"
    if isinstance(error, UnknownEventType):
        return "event.unknown_type", "不认识的事件类型（本服务的契约没有它）"
    if isinstance(error, UnsupportedSchemaVersion):
        return "event.future_schema", "事件的版本高于本服务契约支持的版本，需升级 rehab-contracts"
    if isinstance(error, UnexpectedProducer):
        return "event.wrong_producer", "事件声称的生产者不是唯一可产生该类型事件的机构"
    if isinstance(error, SignatureRejected):
        return "event.signature_rejected", "事件没有签名、被篡改，或不是其生产者的密钥签名"
    if isinstance(error, RecordedInTheFuture):
        return "event.recorded_in_the_future", "事件的记录时间晚于本服务的时钟（超出允许的误差）"
    if isinstance(error, EventConflict):
        return "event.conflict", "事件与已应用的事件冲突（同一事件内容不同，或该版本已被另一事件占用）"
    if isinstance(error, EventRejected):
        return "event.rejected", "本服务的规则拒绝了该事件"
    return "entry.malformed", "条目无法解析（缺少字段或格式不对）"


def _fields(error: ValidationError) -> str:
    """``payload.amount_fen 缺少、payload.item 值无效``: each field path once, with what is wrong."""
    within = () if error.title == "EventEnvelope" else ("payload",)  # a payload's paths, as on the entry
    problems: dict[str, str] = {}
    for found in error.errors():
        path = ".".join(str(part) for part in (*within, *found.get("loc", ()))) or "（整个事件）"
        problems.setdefault(path, _FIELD_PROBLEMS.get(found.get("type", ""), "值无效"))
    shown = [f"{path} {problem}" for path, problem in list(problems.items())[:FIELDS_SHOWN]]
    more = f" 等 {len(problems)} 处" if len(problems) > FIELDS_SHOWN else ""
    return "、".join(shown) + more
