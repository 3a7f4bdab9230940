"""Mask personal identifiers (resident ID, certificate and phone numbers) in text that leaves a service.

Logs, error bodies and metrics must never carry a resident ID number (身份证号), a disability
certificate number (残疾人证号, the ID number plus two digits) or a mobile phone number. What is
masked keeps its length class but can no longer identify anyone, nor pass a GB 11643 checksum.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

__all__ = ["install_log_masking", "mask_personal_data", "names_personal_data"]

# 18 characters: 17 digits and a digit or X, optionally followed by the certificate's two digits.
# Bounded by non-alphanumerics so that uuids and hex digests are left alone.
_IDENTITY_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{11}[\dXx](\d{2})?(?![0-9A-Za-z])")
_MOBILE_PHONE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")


def mask_personal_data(text: str) -> str:
    """The text with identity numbers reduced to their area code and phones to their ends."""
    text = _IDENTITY_NUMBER.sub(_masked_identity, text)
    return _MOBILE_PHONE.sub(r"\1****\2", text)


def names_personal_data(text: str) -> bool:
    """Whether the text holds a resident ID, certificate or mobile phone number."""
    return bool(_IDENTITY_NUMBER.search(text) or _MOBILE_PHONE.search(text))


def _masked_identity(match: re.Match[str]) -> str:
    # The area code (first six digits) names a district, not a person; the rest goes.
    certificate_suffix = "**" if match.group(2) else ""
    return f"{match.group(1)}************{certificate_suffix}"


def install_log_masking() -> None:
    """Mask every log record as it is created, whichever handler (or test capture) receives it."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_personal_data", False):
        return
    logging.setLogRecordFactory(_MaskedRecordFactory(current))


class _MaskedRecordFactory:
    """The record factory that was installed, with each record masked as it is made."""

    masks_personal_data = True
    """Marks an installed masking, so that installing it again changes nothing."""

    def __init__(self, make_record: Callable[..., logging.LogRecord]) -> None:
        self.make_record = make_record

    def __call__(self, *args: object, **kwargs: object) -> logging.LogRecord:
        record = self.make_record(*args, **kwargs)
        _mask_record(record)
        return record


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed %-format: leave it to the handler to report
        return
    masked = mask_personal_data(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info:
        record.exc_text = mask_personal_data(logging.Formatter().formatException(record.exc_info))
