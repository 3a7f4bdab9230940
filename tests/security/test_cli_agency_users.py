"""`rehab up --agency-users` starts its own Redis with the ACL file, so it refuses a Redis already running."""

from __future__ import annotations

from rehab.cli import main


def test_agency_users_refuse_to_reuse_a_redis_that_already_answers(redis_url, tmp_path, capsys):
    assert main(["up", "--agency-users", "--redis-url", redis_url, "--var-dir", str(tmp_path)]) == 2
    assert "free port" in capsys.readouterr().err
