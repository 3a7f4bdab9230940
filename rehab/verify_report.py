"""What `rehab verify` prints: each invariant's counts and violations, a summary table, the verdict.

Headings and counts read in Chinese with the check's English name in parentheses (what the code, the
docs and the tests call it, so an operator can search for it); each violation names stores, streams
and event ids as the stores hold them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len

from kernel.access.audit import printable

if TYPE_CHECKING:
    from rehab.verify import CheckResult

SHOWN_VIOLATIONS = 10
OK = "成立（ok）"
VIOLATED = "违反（VIOLATED）"
SUMMARY_HEADINGS = ("不变式（invariant）", "结果（result）", "违反数（violations）", "内容")

TITLES = {
    "I1": "每个被接受的命令恰好记录一次",
    "I2": "每个记录的事件都已发布",
    "I3": "每个发布的事件都被每个订阅者消费，没有等待处理的死信",
    "I4": "没有重复的效果（结算的记账）",
    "I5": "重放等价：从存档重建的台账等于实时台账",
    "I6": "每个聚合的版本连续、递增",
}
COUNT_NAMES = {
    "events recorded": "已记录的事件",
    "event ids recorded twice": "记录了两次的事件编号",
    "idempotency keys": "幂等键",
    "keys with two event sets": "对应两组事件的键",
    "keys naming unrecorded events": "指向未记录事件的键",
    "events named by two keys": "被两个键指向的事件",
    "events": "事件",
    "published, entry on stream": "已发布，条目在流上",
    "published, entry trimmed": "已发布，条目已被修剪",
    "entry trimmed before every group had it": "条目在每个消费组收到前被修剪",
    "unpublished": "未发布",
    "without outbox row": "没有发件箱行",
    "entry missing from stream": "流上没有该条目",
    "entry holds another event": "条目是另一个事件",
    "stream entries of other events": "流上其他事件的条目",
    "deliveries due": "应投递",
    "consumed": "已消费",
    "dead-lettered (not applied)": "进入死信（未应用）",
    "dead-lettered without a reason": "进入死信但没有原因",
    "lost (neither)": "丢失（既未消费也未进死信）",
    "consumed but never recorded": "已消费但生产者从未记录",
    "consumed with other content": "消费的内容不同",
    "dead letters of entries never recorded": "生产者从未记录的条目的死信",
    "pending entries": "待确认的条目",
    "missing groups": "缺少的消费组",
    "parked": "暂存等待前序事件",
    "entries not UTF-8": "不是 UTF-8 文本的条目",
    "postings": "记账",
    "keys posted twice": "记了两次的记账键",
    "rule and source events posted twice": "同一规则和来源事件记了两次",
    "amounts beyond the bound": "超出上限的金额",
    "live postings": "实时台账的记账",
    "replayed postings": "重放得到的记账",
    "live total fen": "实时合计（分）",
    "replayed total fen": "重放合计（分）",
    "missing from live": "实时台账缺少",
    "only in live": "只在实时台账中",
    "different": "不一致",
    "unbalanced live postings": "借贷不平衡的实时记账",
    "aggregates": "聚合",
    "with a gap or out of order": "有缺口或乱序",
    "consumed aggregates": "消费的聚合",
    "consumed with a gap or out of order": "消费时有缺口或乱序",
}
"""The Chinese name of each count a check makes; the English name is its key in ``CheckResult.counts``."""


def title(result: CheckResult) -> str:
    chinese = TITLES.get(result.code)
    return f"{chinese}（{result.title}）" if chinese else result.title


def count_name(name: str) -> str:
    chinese = COUNT_NAMES.get(name)
    return f"{chinese}（{name}）" if chinese else name


def details(results: list[CheckResult]) -> str:
    """One block per invariant: its heading and verdict, its counts, at most ten violations."""
    lines: list[str] = []
    for result in results:
        lines.append(f"{result.code} {title(result)}：{OK if result.ok else VIOLATED}")
        names = [count_name(name) for name in result.counts]
        width = max(map(cell_len, names), default=0)
        for name, count in zip(names, result.counts.values(), strict=True):
            lines.append(f"    {name}{' ' * (width - cell_len(name))}  {count:>8}")
        if result.violations:
            shown = result.violations[:SHOWN_VIOLATIONS]
            first = f"，列出前 {len(shown)} 处" if len(shown) < len(result.violations) else ""
            lines.append(f"    违反 {len(result.violations)} 处（violations）{first}：")
            lines += [f"      - {printable(violation)}" for violation in shown]
        lines.append("")
    return "\n".join(lines) + "\n"


def summary_rows(results: list[CheckResult]) -> list[tuple[str, str, str, str]]:
    """One row per invariant under :data:`SUMMARY_HEADINGS`."""
    return [
        (result.code, OK if result.ok else VIOLATED, str(len(result.violations)), TITLES.get(result.code, ""))
        for result in results
    ]


def verdict(results: list[CheckResult]) -> str:
    """The last line: every invariant holds, or which do not."""
    failed = [result.code for result in results if not result.ok]
    return f"{VIOLATED}：{', '.join(failed)}" if failed else "全部不变式成立（clean: every invariant holds）"


def render(results: list[CheckResult]) -> str:
    """The report as text: each invariant's block, then the verdict."""
    return details(results) + verdict(results) + "\n"
