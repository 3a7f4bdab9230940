"""Back-off and lock-out hold against wrong passwords sent at the same time, and a name without a password
gets the same answers as a real one (they never tell whether it exists)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from console.passwords import FREE_FAILURES, WRONG, Credentials, LoginRefused
from tests.console.test_passwords import T0, credentials, refusal  # noqa: F401  (the fixture)

ATTEMPTS = 12


def answer(store: Credentials, user: str, password: str) -> str:
    try:
        store.check(user, password, T0)
    except LoginRefused as refused:
        return refused.message
    return "accepted"


@pytest.mark.parametrize("user", ["孙干事", "无此人"])
def test_wrong_passwords_sent_together_are_verified_no_more_often_than_one_after_the_other(
    credentials: Credentials,  # noqa: F811
    user: str,
) -> None:
    with ThreadPoolExecutor(ATTEMPTS) as pool:
        answers = list(pool.map(lambda _: answer(credentials, user, "wrong"), range(ATTEMPTS)))
    assert answers.count(WRONG) == FREE_FAILURES, answers
    assert all("秒后再试" in found for found in answers if found != WRONG), answers
    if user == "孙干事":  # the right password waits like any other attempt
        assert "秒后再试" in answer(credentials, user, "first-password-1")


def test_a_name_without_a_password_is_answered_as_a_real_one_through_back_off_and_lock_out(
    credentials: Credentials,  # noqa: F811
) -> None:
    def run(user: str, password: str) -> list[str]:
        times = [0, 1, 2, 2.5, 3.1, 3.5, 6, 600]
        return [refusal(credentials, password, T0 + timedelta(seconds=at), user=user) for at in times]

    real, unknown = run("孙干事", "wrong"), run("无此人", "wrong")
    assert real == unknown
    assert (
        "请 1 秒后再试" in unknown[3] and "账户已锁定 15 分钟" in unknown[6] and "账户已锁定至" in unknown[7]
    )
