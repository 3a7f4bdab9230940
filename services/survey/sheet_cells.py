"""How the cells of one row of an import sheet are read: text, numbers kept as text, choices, flags
and dates, each bad cell collected as a RowError with a reason in Chinese for the street office."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from kernel.web.text_guard import hidden_characters, hidden_characters_message
from services.survey import labels
from services.survey.sheet import Cell, SheetRow

TEXT_MAX = 200


@dataclass(frozen=True, order=True)
class RowError:
    """Why a row (or one of its cells) was not imported."""

    row: int
    column: str
    reason: str
    code: str = "invalid_cell"
    field: str | None = None


_SEPARATORS = re.compile(r"[、,，;；/／\s]+")
_DATE = re.compile(
    r"([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?(\s+00:00(:00)?)?", re.ASCII
)
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII)
_SCIENTIFIC = re.compile(r"[0-9.]+[eE]\+?[0-9]+")
_FULL_WIDTH = str.maketrans("（）", "()")


class RowCells:
    """Reads one row's cells, collecting a RowError per bad cell instead of stopping at the first."""

    def __init__(self, row: SheetRow, fields: Mapping[str, str | None]) -> None:
        self.row = row
        self.fields = fields
        self.errors: list[RowError] = []

    def fail(self, label: str, reason: str, code: str = "invalid_cell") -> None:
        self.errors.append(RowError(self.row.number, label, reason, code, self.fields.get(label)))

    def has_error(self, label: str) -> bool:
        return any(error.column == label for error in self.errors)

    def raw(self, label: str) -> Cell:
        return self.row.cells.get(label)

    def blank(self, label: str) -> bool:
        return not as_text(self.raw(label))

    def text(
        self, label: str, *, required: bool = True, max_length: int = TEXT_MAX, reason: str | None = None
    ) -> str | None:
        value = as_text(self.raw(label))
        if not value:
            if required:
                self.fail(label, reason or f"“{label}”必填", "required")
            return None
        if len(value) > max_length:
            self.fail(label, f"“{label}”最多 {max_length} 个字，此处 {len(value)} 个", "too_long")
            return None
        if hidden := hidden_characters(value):  # they break the documents printed from it (issue 14)
            self.fail(label, hidden_characters_message(label, hidden), "control_character")
            return None
        return value

    def code(self, label: str, *, required: bool = True, reason: str | None = None) -> str | None:
        """A number kept as text (ID, certificate, phone): a long number stored as a number lost digits."""
        value = self.raw(label)
        if isinstance(value, float) and (not value.is_integer() or abs(value) >= 1e15):
            self.fail(
                label,
                f"“{label}”被保存成了数字（{value:g}），已丢失位数：请把该列设为文本格式后重新填写",
                "number_lost_digits",
            )
            return None
        text = self.text(label, required=required, max_length=40, reason=reason)
        if text and _SCIENTIFIC.fullmatch(text):
            self.fail(
                label,
                f"“{label}”是科学计数法（{text}），已丢失位数：请把该列设为文本格式后重新填写",
                "number_lost_digits",
            )
            return None
        return text

    def choice(
        self, label: str, aliases: Mapping[str, str], allowed: str, *, required: bool = True
    ) -> str | None:
        text = self.text(label, required=required)
        if text is None:
            return None
        code = aliases.get(cell_token(text))
        if code is None:
            self.fail(label, f"“{text}”不是可选的{label}：请填 {allowed}", "invalid_choice")
        return code

    def many(
        self,
        label: str,
        aliases: Mapping[str, str],
        allowed: str,
        *,
        text: str | None = None,
        prefix: str = "",
    ) -> tuple[str, ...]:
        """Several choices in one cell separated by 、 , ; / or spaces; in order, each once."""
        if text is None:
            text = self.text(label) or ""
        found, unknown = [], []
        for part in _SEPARATORS.split(text):
            token = cell_token(part)
            if prefix and token.startswith(prefix) and token != prefix:
                token = token.removeprefix(prefix)
            if not token:
                continue
            code = aliases.get(token)
            if code is None:
                unknown.append(part)
            else:
                found.append(code)
        if unknown:
            self.fail(label, f"“{'、'.join(unknown)}”不是可选的{label}；可填：{allowed}", "invalid_choice")
        return tuple(dict.fromkeys(found))

    def flag(self, label: str, *, required: bool) -> bool | None:
        value = self.raw(label)
        if isinstance(value, bool):
            return value
        text = as_text(value)
        if not text:
            if required:
                self.fail(label, f"“{label}”必填：有 或 无", "required")
                return None
            return False
        if text in labels.YES_WORDS:
            return True
        if text in labels.NO_WORDS:
            return False
        self.fail(label, f"“{text}”看不出是有还是无：请填 有/是 或 无/否", "invalid_choice")
        return None

    def day(self, label: str, *, required: bool) -> date | None:
        value = self.raw(label)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = as_text(value)
        if not text:
            if required:
                self.fail(label, f"“{label}”必填", "required")
            return None
        match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
        if match is None:
            self.fail(
                label, f"“{text}”不是日期：请写成 1958-04-12 或 1958年4月12日（半角数字）", "invalid_date"
            )
            return None
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            self.fail(label, f"{text} 不是真实存在的日期", "invalid_date")
            return None


def as_text(value: Cell) -> str:
    """A cell as the text a person typed (whole numbers without ".0", dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_token(text: str) -> str:
    """The text compared with the labels: no spaces (full-width too), half-width brackets."""
    return re.sub(r"[\s\u3000]", "", text.translate(_FULL_WIDTH))
