"""The six checks of `rehab verify` on hand-made data: clean passes, and each invariant can fail."""

from __future__ import annotations

from dataclasses import replace

from rehab.verify import (
    CheckResult,
    EventRow,
    InboxRow,
    OutboxRow,
    PostingRow,
    check_consumed,
    check_no_duplicate_effect,
    check_published,
    check_recorded_once,
    check_replay_equivalent,
    check_versions,
    render,
    run_checks,
)
from rehab.verify_report import summary_rows
from tests.verify.snapshots import clean, dead_letter, drop_from_inbox, entry_id, live_postings, posting


def only_violation(result: CheckResult) -> str:
    assert len(result.violations) == 1, result.violations
    return result.violations[0]


def test_a_clean_deployment_holds_every_invariant_and_says_so() -> None:
    results = run_checks(clean())

    assert [(result.code, result.ok) for result in results] == [(f"I{n}", True) for n in range(1, 7)]
    assert render(results).endswith("全部不变式成立（clean: every invariant holds）\n")


def test_the_report_counts_what_it_checked() -> None:
    snapshot = clean()

    assert check_recorded_once(snapshot).counts["events recorded"] == 7
    assert check_published(snapshot).counts["published, entry on stream"] == 7
    consumed = check_consumed(snapshot).counts
    # assessment gets survey's 3, approval assessment's 2, delivery approval's 1, settlement all 7,
    # survey assessment's and approval's 3 (names across agencies, ADR 0016)
    assert (consumed["deliveries due"], consumed["consumed"]) == (3 + 2 + 1 + 7 + 3, 16)
    assert check_replay_equivalent(snapshot).counts["live total fen"] == 7000


# -- I1 ---------------------------------------------------------------------------------------------
def test_one_event_id_recorded_in_two_stores_violates_i1() -> None:
    snapshot = clean()
    snapshot.stores["approval"].events.append(EventRow("survey-1", "application-b", 1))

    assert "事件 survey-1 记录了 2 次（survey, approval）" in check_recorded_once(snapshot).violations


def test_an_idempotency_key_with_two_event_sets_violates_i1() -> None:
    snapshot = clean()
    snapshot.stores["survey"].idempotency = [("k1", frozenset({"survey-1"})), ("k1", frozenset({"survey-3"}))]

    result = check_recorded_once(snapshot)

    assert only_violation(result) == "survey：幂等键（idempotency key）'k1' 对应 2 组事件"
    assert result.counts["keys with two event sets"] == 1


def test_an_idempotency_key_naming_an_unrecorded_event_violates_i1() -> None:
    snapshot = clean()
    snapshot.stores["survey"].idempotency = [("k1", frozenset({"survey-1", "survey-9"}))]

    assert only_violation(check_recorded_once(snapshot)) == (
        "survey：幂等键（idempotency key）'k1' 指向未记录的事件：survey-9"
    )


def test_one_event_named_by_two_keys_violates_i1_but_one_key_per_command_does_not() -> None:
    snapshot = clean()
    snapshot.stores["survey"].idempotency = [("k1", frozenset({"survey-1"})), ("k2", frozenset({"survey-3"}))]
    assert check_recorded_once(snapshot).ok

    snapshot.stores["survey"].idempotency.append(("k3", frozenset({"survey-1"})))

    violation = only_violation(check_recorded_once(snapshot))
    assert violation == "survey：事件 survey-1 被多个幂等键指向：['k1', 'k3']"


# -- I2 ---------------------------------------------------------------------------------------------
def test_an_unpublished_outbox_row_violates_i2() -> None:
    snapshot = clean()
    snapshot.stores["delivery"].outbox = [OutboxRow("delivery-1", False)]

    result = check_published(snapshot)

    assert only_violation(result) == "delivery：事件 delivery-1 未发布（outbox row unpublished）"
    assert result.counts["unpublished"] == 1


def test_an_event_without_outbox_row_violates_i2() -> None:
    snapshot = clean()
    snapshot.stores["approval"].outbox = []

    assert (
        only_violation(check_published(snapshot)) == "approval：事件 approval-1 没有发件箱行（no outbox row）"
    )


def test_a_published_entry_gone_from_its_stream_violates_i2_unless_the_stream_was_trimmed_past_it() -> None:
    snapshot = clean()
    stream = snapshot.streams["rehab.survey.events"]
    del stream.entries[entry_id(0)]
    assert "rehab.survey.events 上没有这个条目（no such entry）" in only_violation(check_published(snapshot))

    stream.first_entry_id = entry_id(1)  # trimmed (XTRIM MINID) behind the slowest group
    stream.delivered_floor = entry_id(1)

    result = check_published(snapshot)
    assert result.ok
    assert result.counts["published, entry trimmed"] == 1


def test_an_entry_trimmed_before_every_group_was_delivered_it_violates_i2() -> None:
    """Issue 14, defect 9: `XTRIM … MAXLEN 0` by a producer's user lost deliveries and I2 said ok."""
    snapshot = clean()
    stream = snapshot.streams["rehab.survey.events"]
    stream.entries.clear()
    stream.first_entry_id = None  # empty: every entry is older than the last generated id
    stream.last_generated_id = entry_id(2)
    stream.delivered_floor = entry_id(1)  # a group was delivered (and acknowledged) only survey-1

    result = check_published(snapshot)

    assert result.counts["published, entry trimmed"] == 1
    assert result.counts["entry trimmed before every group had it"] == 2
    assert result.violations == [
        f"survey：事件 survey-{n + 1} 已发布为条目 {entry_id(n)}，但在每个消费组收到之前 {stream.stream} "
        "已修剪掉它（trimmed before every consumer group had it）"
        for n in (1, 2)
    ]


def test_published_events_on_a_vanished_stream_violate_i2() -> None:
    snapshot = clean()
    snapshot.streams["rehab.delivery.events"].exists = False
    snapshot.streams["rehab.delivery.events"].entries.clear()

    assert not check_published(snapshot).ok


def test_an_entry_holding_another_event_violates_i2_while_extra_copies_do_not() -> None:
    snapshot = clean()
    entries = snapshot.streams["rehab.survey.events"].entries
    entries[entry_id(9)] = "survey-1"  # published twice (relay crash between XADD and mark): harmless
    assert check_published(snapshot).ok

    entries[entry_id(0)] = "someone-else"

    assert "该条目是事件 someone-else" in only_violation(check_published(snapshot))


# -- I3 ---------------------------------------------------------------------------------------------
def test_an_event_neither_consumed_nor_dead_lettered_violates_i3() -> None:
    snapshot = drop_from_inbox(clean(), "settlement", "delivery-1")

    result = check_consumed(snapshot)

    assert only_violation(result) == (
        "settlement <- delivery：事件 delivery-1（delivery-a v1）"
        "既未消费也未进入死信（neither consumed nor dead-lettered）"
    )
    assert result.counts["lost (neither)"] == 1


def test_an_event_dead_lettered_is_not_consumed_and_violates_i3_with_its_reason() -> None:
    """Issue 14, defect 8: 41 good events dead-lettered during a full disk, no fees paid, and I3 said ok."""
    snapshot = drop_from_inbox(clean(), "delivery", "approval-1")
    snapshot.dead_letters["delivery"] = [
        dead_letter("approval-1", "approval", reason="failed on each of 5 deliveries; last: disk full")
    ]

    result = check_consumed(snapshot)

    assert only_violation(result) == (
        "delivery <- approval：事件 approval-1（application-a v1）进入死信（dead-lettered），未应用："
        "failed on each of 5 deliveries; last: disk full"
    )
    assert result.counts["dead-lettered (not applied)"] == 1


def test_a_dead_letter_without_a_reason_or_on_another_stream_does_not_count_as_the_event() -> None:
    snapshot = drop_from_inbox(clean(), "delivery", "approval-1")
    snapshot.dead_letters["delivery"] = [dead_letter("approval-1", "approval", reason=" ")]
    assert only_violation(check_consumed(snapshot)).endswith("进入死信（dead-lettered），没有原因")

    snapshot.dead_letters["delivery"] = [dead_letter("approval-1", "survey")]
    assert sorted(check_consumed(snapshot).violations) == [
        "delivery <- approval：事件 approval-1（application-a v1）既未消费也未进入死信"
        "（neither consumed nor dead-lettered）",
        "delivery：rehab.survey.events 的死信（dead letter），事件 approval-1，"
        "其生产者从未记录（never recorded）："
        "rejected: not designated",
    ]


def test_dead_letters_of_entries_no_producer_recorded_violate_i3_with_their_reasons() -> None:
    """Forged or poison entries are dead-lettered, as they should be, and wait for the operator."""
    snapshot = clean()
    snapshot.dead_letters["settlement"] = [
        dead_letter("forged-1", "approval", reason="SignatureRejected: unsigned: …\nline two"),
        dead_letter("", "survey", reason="ValueError: undecodable"),
    ]

    result = check_consumed(snapshot)

    assert result.violations == [
        "settlement：rehab.approval.events 的死信（dead letter），事件 forged-1，"
        "其生产者从未记录（never recorded）："
        "SignatureRejected: unsigned: …\\nline two",
        "settlement：rehab.survey.events 的死信（dead letter），事件 （无），"
        "其生产者从未记录（never recorded）："
        "ValueError: undecodable",
    ]
    assert result.counts["dead letters of entries never recorded"] == 2


def test_pending_entries_missing_groups_and_parked_events_violate_i3() -> None:
    snapshot = clean()
    snapshot.streams["rehab.approval.events"].pending["delivery"] = 2
    snapshot.streams["rehab.survey.events"].pending["assessment"] = None
    snapshot.stores["settlement"].parked = 1

    result = check_consumed(snapshot)

    assert sorted(result.violations) == [
        "rehab.approval.events：消费组 delivery 有 2 个条目待确认（pending）",
        "rehab.survey.events：消费组（consumer group）assessment 不存在",
        "settlement：1 个事件暂存（parked），等待前序事件",
    ]
    counts = result.counts
    assert (counts["pending entries"], counts["missing groups"], counts["parked"]) == (2, 1, 1)


def test_consuming_an_event_its_producer_never_recorded_or_with_other_content_violates_i3() -> None:
    snapshot = clean()
    approval = snapshot.stores["approval"]
    approval.inbox.append(InboxRow("forged-1", "rehab.assessment.events", "assessment-z", 1))
    approval.inbox[0] = replace(approval.inbox[0], fingerprint="assessment-a/1 but other payload")

    assert sorted(check_consumed(snapshot).violations) == [
        "approval <- assessment：事件 assessment-1 消费时内容不同（consumed with other content）",
        "approval <- assessment：消费了 assessment 从未记录的事件 forged-1（never recorded）",
    ]


# -- I4 ---------------------------------------------------------------------------------------------
def test_two_postings_for_one_rule_and_the_same_source_events_violate_i4() -> None:
    snapshot = clean()
    again = posting("survey_fee:a:2025-again", "survey_fee", 3000, "survey-2")
    live_postings(snapshot).append(again)

    result = check_no_duplicate_effect(snapshot)

    assert only_violation(result) == "规则 survey_fee 为来源事件 survey-2 记了 2 笔账"
    assert result.counts["rule and source events posted twice"] == 1


def test_two_postings_with_one_key_violate_i4() -> None:
    snapshot = clean()
    postings = live_postings(snapshot)
    postings.append(replace(postings[0], source_event_ids=("survey-9",)))

    assert (
        "记账键 survey_fee:a:2025 有 2 笔记账（postings）" in check_no_duplicate_effect(snapshot).violations
    )


def test_one_payment_split_between_funding_sources_is_not_a_duplicate() -> None:
    result = check_no_duplicate_effect(clean())

    assert result.ok
    assert result.counts["postings"] == 4


def test_one_correction_adjusting_two_payees_is_not_a_duplicate_but_adjusting_one_twice_is() -> None:
    snapshot = clean()
    sources = ("delivery-1", "delivery-1b")
    claw_back = PostingRow(
        "adj:old",
        "service_subsidy_adjustment",
        "service_institution:old",
        "fund:liangjiang-finance",
        600,
        sources,
    )
    top_up = PostingRow(
        "adj:new",
        "service_subsidy_adjustment",
        "fund:liangjiang-finance",
        "service_institution:new",
        600,
        sources,
    )
    live_postings(snapshot).extend([claw_back, top_up])
    assert check_no_duplicate_effect(snapshot).ok

    live_postings(snapshot).append(replace(top_up, key="adj:new-again"))
    assert only_violation(check_no_duplicate_effect(snapshot)) == (
        "规则 service_subsidy_adjustment 为来源事件 delivery-1, delivery-1b 记了 2 笔账"
    )


# -- I5 ---------------------------------------------------------------------------------------------
def test_a_live_ledger_that_differs_from_its_replay_violates_i5() -> None:
    snapshot = clean()
    postings = live_postings(snapshot)
    snapshot.stores["settlement"].postings = [
        replace(postings[0], amount_fen=6000),
        *postings[1:3],
        posting("assessment_fee:a:2025", "assessment_fee", 3000, "assessment-2"),
    ]

    result = check_replay_equivalent(snapshot)

    assert len(result.violations) == 3
    assert "实时台账缺少记账 service_subsidy:d|city（missing from live）" in result.violations
    assert "实时台账有记账 assessment_fee:a:2025，重放不产生它（only in live）" in result.violations
    assert result.violations[2].startswith("记账 survey_fee:a:2025 不一致（different）")
    counts = result.counts
    assert (counts["missing from live"], counts["only in live"], counts["different"]) == (1, 1, 1)


def test_unbalanced_live_postings_violate_i5() -> None:
    snapshot = clean()
    snapshot.stores["settlement"].unbalanced_postings = 1

    assert only_violation(check_replay_equivalent(snapshot)) == "1 笔实时记账借贷不平衡（unbalanced）"


# -- I6 ---------------------------------------------------------------------------------------------
def test_a_gap_in_an_aggregates_versions_violates_i6() -> None:
    snapshot = clean()
    snapshot.stores["survey"].events[1] = EventRow("survey-2", "person-a", 3)

    assert only_violation(check_versions(snapshot)) == "survey：person-a 的版本为 [1, 3]"


def test_versions_out_of_position_order_violate_i6() -> None:
    snapshot = clean()
    events = snapshot.stores["assessment"].events
    events.reverse()

    assert only_violation(check_versions(snapshot)) == "assessment：assessment-a 的版本为 [2, 1]"


def test_a_consumer_that_applied_versions_out_of_order_violates_i6() -> None:
    snapshot = clean()
    inbox = snapshot.stores["assessment"].inbox
    inbox[0], inbox[1] = inbox[1], inbox[0]

    result = check_versions(snapshot)

    assert only_violation(result) == "assessment 消费 rehab.survey.events person-a 时的版本为 [2, 1]"
    assert result.counts["consumed with a gap or out of order"] == 1


# -- the report -------------------------------------------------------------------------------------
def test_the_report_marks_a_violated_invariant_and_shows_at_most_ten_violations() -> None:
    snapshot = clean()
    snapshot.stores["delivery"].outbox = []
    for n in range(12):
        snapshot.stores["delivery"].events.append(EventRow(f"delivery-x{n}", f"delivery-x{n}", 1))

    text = render(run_checks(snapshot))

    assert "I2 每个记录的事件都已发布（every recorded event published）：违反（VIOLATED）" in text
    assert "违反 13 处（violations），列出前 10 处：" in text
    assert text.count("没有发件箱行（no outbox row）") == 10
    assert text.endswith("违反（VIOLATED）：I2, I3\n")  # the twelve were not consumed by settlement either


def test_the_summary_has_a_row_per_invariant_with_its_verdict_and_count_of_violations() -> None:
    snapshot = clean()
    snapshot.stores["delivery"].outbox = []

    rows = summary_rows(run_checks(snapshot))

    assert [row[:3] for row in rows][:3] == [
        ("I1", "成立（ok）", "0"),
        ("I2", "违反（VIOLATED）", "1"),
        ("I3", "成立（ok）", "0"),
    ]
