"""Personal identifiers are masked in logs, and the suite-wide scan fails on any that leak."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kernel.masking import install_log_masking, mask_personal_data
from services.survey.identity import check_character
from tests.pii_scan import resident_ids_in

pytest_plugins = ["pytester"]
REPOSITORY = Path(__file__).resolve().parents[2]


def resident_id(first_seventeen: str = "11010519491231002") -> str:
    return first_seventeen + check_character(first_seventeen)


def test_a_resident_id_number_keeps_only_its_area_code():
    number = resident_id()
    masked = mask_personal_data(f"person {number} registered")
    assert masked == "person 110105************ registered"
    assert resident_ids_in(masked) == []


def test_a_certificate_number_is_masked_whole_including_its_category_and_grade_digits():
    certificate = resident_id() + "41"
    assert mask_personal_data(f"certificate={certificate}") == "certificate=110105**************"


def test_a_mobile_phone_number_keeps_its_first_three_and_last_four_digits():
    assert mask_personal_data("call 13812345678 or 023-6789012") == "call 138****5678 or 023-6789012"


def test_event_ids_uuids_and_redis_entry_ids_are_left_alone():
    text = "event 0193a5c2-7d1e-7b8a-9f00-123456789abc entry 1732291200000-0 hash 9f86d081884c7d65"
    assert mask_personal_data(text) == text


def test_an_id_number_ending_in_x_is_found_and_masked():
    number = next(
        resident_id(f"1101051949123{serial:03d}1")
        for serial in range(1000)
        if check_character(f"1101051949123{serial:03d}1") == "X"
    )
    assert resident_ids_in(number) == [number]
    assert resident_ids_in(mask_personal_data(number)) == []


def test_log_records_are_masked_when_created_so_every_handler_and_traceback_sees_the_masked_text(caplog):
    install_log_masking()
    number = resident_id()
    with caplog.at_level(logging.INFO):
        logging.getLogger("rehab.test").info("registering %s", number)
        try:
            raise ValueError(f"bad person {number}")
        except ValueError:
            logging.getLogger("rehab.test").exception("failed")
    assert number not in caplog.text
    assert "110105************" in caplog.text
    assert resident_ids_in(caplog.text) == []


def test_the_session_scan_fails_a_run_that_leaked_a_resident_id_number_in_a_log_record_a_log_file_or_redis(
    pytester, monkeypatch, redis_url
):
    """One inner run (a whole pytest process) for the three places a leak is looked for: each is named
    in the report, and any of them fails the run."""
    stream = "rehab.scan-test.dead_letters"
    pytester.makepyfile(
        f"""
        import json
        import logging
        import redis
        from tests.pii_scan import scan_redis
        NUMBER = {resident_id()!r}
        def test_an_id_number_in_a_log_record():
            logging.getLogger('x').error('person %s', NUMBER)
        def test_an_id_number_in_a_service_process_s_log_file(tmp_path):
            (tmp_path / 'service.log').write_text('person ' + NUMBER)
        def test_dead_letter_reason_quotes_an_id_number():
            client = redis.Redis.from_url({redis_url!r})
            reason = "invalid id_number " + NUMBER
            client.xadd({stream!r}, {{"reason": reason, "fields": json.dumps({{}})}})
            try:
                scan_redis(client)
            finally:
                client.delete({stream!r})
        """
    )
    result = _run_with_the_scan(pytester, monkeypatch)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*PRIVACY: valid resident ID numbers leaked*"])
    result.stdout.fnmatch_lines(["*log x: 110105…*"])
    result.stdout.fnmatch_lines(["*file service.log: 110105…*"])
    result.stdout.fnmatch_lines(["*redis rehab.scan-test.dead_letters field reason: 110105…*"])


def test_the_session_scan_passes_a_run_that_logged_only_masked_numbers_and_kept_a_version_1_payload(
    pytester, monkeypatch, redis_url
):
    """One inner run for both things the scan must let pass: a masked number in a log record, and the
    clear payload of a version 1 person event in Redis (history is immutable, ADR 0007)."""
    stream = "rehab.scan-test.events"
    pytester.makepyfile(
        f"""
        import json
        import logging
        import redis
        from kernel.masking import mask_personal_data
        from tests.pii_scan import scan_redis
        def test_masked():
            logging.getLogger('x').error('person %s', mask_personal_data({resident_id()!r}))
        def test_v1_history():
            client = redis.Redis.from_url({redis_url!r})
            payload = json.dumps({{"id_number": {resident_id()!r}}})
            fields = {{"event_type": "survey.person_registered", "schema_version": "1", "payload": payload}}
            client.xadd({stream!r}, fields)
            try:
                scan_redis(client)
            finally:
                client.delete({stream!r})
        """
    )
    result = _run_with_the_scan(pytester, monkeypatch)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


def _run_with_the_scan(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(REPOSITORY))
    return pytester.runpytest_subprocess("-p", "tests.pii_scan", "-p", "no:cacheprovider")
