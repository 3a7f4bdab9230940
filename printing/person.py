"""The person's basic information 残疾人基本信息 as 附件1, 附件2 and 附件4 print it.

Every field is what the paper shows, in Chinese (性别 男, 残疾类别 视力); a field the registry did not
release to the clerk is blank (None or ''), left for the pen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CATEGORIES = ("视力", "听力", "言语", "肢体", "智力", "精神")
"""残疾类别 as the forms list them (多重残疾可多选)."""
GRADES = ("一级", "二级", "三级", "四级", "未定级")
"""残疾等级."""


@dataclass(frozen=True)
class Guardian:
    """监护人."""

    name: str = ""
    sex: str = ""
    phone: str = ""
    id_number: str = ""
    relation: str = ""
    """与残疾人（申请人）关系."""


@dataclass(frozen=True)
class Person:
    """残疾人基本信息."""

    name: str = ""
    sex: str = ""
    ethnicity: str = ""
    birth_date: date | None = None
    id_number: str = ""
    certificate_number: str = ""
    """残疾人证号 (or 残疾军人证号); blank for a child without a certificate."""
    phone: str = ""
    address: str = ""
    """家庭住址."""
    household_registration: str = ""
    """户籍所在地."""
    residence: str = ""
    """现居住地."""
    categories: tuple[str, ...] = ()
    """残疾类别, each one of ``CATEGORIES``."""
    grade: str = ""
    """残疾等级, one of ``GRADES``."""
    street: str = ""
    community: str = ""
    guardian: Guardian | None = None

    @property
    def multiple(self) -> bool:
        """多重残疾."""
        return len(self.categories) > 1
