"""deploy/backup's scripts run against real servers: pg_dump of a database with retention and a restore
that keeps the current database aside (PostgreSQL), the WAL archive command, the Redis AOF copy."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from rehab.local_redis import free_port
from tests.local_postgres import LocalPostgres, postgres_binaries

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup"
ROLES = [*("survey", "assessment", "approval", "delivery", "settlement"), "console"]


def test_the_wal_archive_command_copies_once_accepts_a_retry_and_refuses_a_different_file(
    tmp_path: Path,
) -> None:
    archive, segment = tmp_path / "archive", tmp_path / "000000010000000000000001"
    archive.mkdir()
    segment.write_bytes(b"wal" * 100)
    environment = {**os.environ, "REHAB_WAL_ARCHIVE_DIR": str(archive)}

    def archive_it() -> int:
        command = [str(BACKUP / "wal-archive.sh"), str(segment), segment.name]
        return subprocess.run(command, env=environment, capture_output=True, check=False).returncode

    assert archive_it() == 0
    assert (archive / segment.name).read_bytes() == segment.read_bytes()
    assert archive_it() == 0  # PostgreSQL retrying after a crash between the copy and its report
    segment.write_bytes(b"other")
    assert archive_it() != 0
    restored = tmp_path / "restored"
    restore = [str(BACKUP / "wal-restore.sh"), segment.name, str(restored)]
    assert subprocess.run(restore, env=environment, check=False).returncode == 0
    assert restored.read_bytes() == b"wal" * 100
    missing = [str(BACKUP / "wal-restore.sh"), "000000010000000000000002", str(restored)]
    assert subprocess.run(missing, env=environment, check=False).returncode != 0


@pytest.fixture
def postgres() -> Iterator[LocalPostgres]:
    if postgres_binaries() is None or shutil.which("psql") is None or shutil.which("pg_dump") is None:
        pytest.skip("PostgreSQL is not installed here (scripts/setup installs it)")
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


def psql(server: LocalPostgres, database: str, sql: str, user: str = "postgres") -> str:
    command = ["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(server.port)]
    command += ["-U", user, "-d", database, "-c", sql]
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def test_a_nightly_dump_is_restored_beside_the_current_database(
    postgres: LocalPostgres, tmp_path: Path
) -> None:
    passwords = [f"-v{role}_password=pw-{role}" for role in ROLES]
    connection = ["-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", "-d", "postgres"]
    roles = ["psql", "-X", "-q", *connection, *passwords, "-f", str(ROOT / "deploy/postgresql/roles.sql")]
    subprocess.run(roles, check=True, capture_output=True, timeout=60)
    psql(postgres, "survey", "CREATE TABLE persons (id int); INSERT INTO persons VALUES (1)", user="survey")
    backups = tmp_path / "pg"
    environment = {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(postgres.port),
        "PGUSER": "rehab_backup",
        "REHAB_BACKUP_DIR": str(backups),
        "REHAB_DATABASES": "survey settlement",
        "REHAB_BACKUP_DAYS": "30",
    }
    old = backups / "survey" / "survey-20200101T000000Z.dump"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"an old dump")
    month_ago = time.time() - 40 * 86400
    os.utime(old, (month_ago, month_ago))

    subprocess.run(
        [str(BACKUP / "pg-backup.sh")], env=environment, check=True, capture_output=True, timeout=120
    )

    dumps = sorted((backups / "survey").glob("survey-*.dump"))
    assert len(dumps) == 1 and dumps[0] != old  # the old one is past retention
    assert len(list((backups / "settlement").glob("settlement-*.dump"))) == 1
    psql(postgres, "survey", "INSERT INTO persons VALUES (2)", user="survey")

    environment["PGUSER"] = "postgres"
    restore = [str(BACKUP / "pg-restore.sh"), "survey", str(dumps[0])]
    subprocess.run(restore, env=environment, check=True, capture_output=True, timeout=120)

    assert psql(postgres, "survey", "SELECT count(*) FROM persons", user="survey") == "1"
    assert psql(
        postgres, "survey", "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'persons'"
    ) == ("survey")
    aside = psql(postgres, "postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'survey_before_%'")
    assert psql(postgres, aside, "SELECT count(*) FROM persons") == "2"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_the_aof_copy_holds_redis_s_append_only_files(tmp_path: Path) -> None:
    secrets, data = tmp_path / "secrets", tmp_path / "data"
    secrets.mkdir()
    data.mkdir()
    users = ["survey", "assessment", "approval", "delivery", "settlement", "operator", "retention"]
    for user in [*users, "replica", "sentinel"]:
        (secrets / f"redis_{user}_password").write_text(f"{user}-secret\n")
    port = free_port()
    environment = {
        **os.environ,
        "REHAB_SECRETS_DIR": str(secrets),
        "REHAB_REDIS_CONFIG_DIR": str(ROOT / "deploy" / "redis"),
        "REHAB_REDIS_RUNTIME_DIR": str(tmp_path / "run"),
        "REHAB_REDIS_DATA_DIR": str(data),
        "REHAB_REDIS_SELF": "127.0.0.1",
        "REHAB_REDIS_PORT": str(port),
        "REHAB_REDIS_PRIMARY": "127.0.0.1",
        "REHAB_REDIS_PRIMARY_PORT": str(port),
    }
    start = ["bash", str(ROOT / "deploy" / "compose" / "redis" / "start-redis.sh")]
    server = subprocess.Popen(start, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        survey = redis.Redis(port=port, username="survey", password="survey-secret")
        deadline = time.monotonic() + 20
        while True:
            try:
                survey.xadd("rehab.survey.events", {"type": "PersonRegistered"})
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        backup_environment = {
            **os.environ,
            "REDIS_DATA_DIR": str(data),
            "REHAB_BACKUP_DIR": str(tmp_path / "backups"),
            "REHAB_REDIS_ADDRESS": f"127.0.0.1:{port}",
            "REHAB_REDIS_PASSWORD_FILE": str(secrets / "redis_operator_password"),
        }
        command = [str(BACKUP / "redis-aof-backup.sh")]
        subprocess.run(command, env=backup_environment, check=True, capture_output=True, timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=10)
    (copy,) = (tmp_path / "backups" / "redis").glob("aof-*.tar.gz")
    with tarfile.open(copy) as archive:
        names = archive.getnames()
    assert any(name.endswith(".manifest") for name in names)
    assert any(name.endswith(".incr.aof") for name in names)


def start_on_deploy_settings(server: LocalPostgres, data: Path, name: str, *overrides: str) -> None:
    """pg_ctl start on deploy/postgresql/postgresql.conf; only what differs on this machine overridden."""
    folder = server.dir
    settings = [
        f"include '{folder / 'rehab.conf'}'",
        f"port = {server.port}",
        "listen_addresses = '127.0.0.1'",
        f"unix_socket_directories = '{folder}'",
        *overrides,
    ]
    (folder / f"{name}.conf").write_text("\n".join(settings) + "\n")
    if server.as_postgres:
        for path in folder.iterdir():
            shutil.chown(path, "postgres", "postgres")
    start = [str(server.bin / "pg_ctl"), "-D", str(data), "-o", f"-c config_file={folder / f'{name}.conf'}"]
    server._run(*start, "-l", str(folder / f"{name}.log"), "-w", "start")


def wait_for(check: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


def test_postgresql_conf_archives_wal_and_a_base_backup_recovers_to_a_restore_point(tmp_path: Path) -> None:
    if postgres_binaries() is None or shutil.which("psql") is None:
        pytest.skip("PostgreSQL is not installed here (scripts/setup installs it)")
    server = LocalPostgres()  # its folder, binaries and user; started here on deploy/postgresql's settings
    folder, archive = server.dir, server.dir / "wal-archive"
    shutil.copy(ROOT / "deploy" / "postgresql" / "postgresql.conf", folder / "rehab.conf")
    for script in ("wal-archive.sh", "wal-restore.sh"):
        shutil.copy(BACKUP / script, folder / script)
    data, base = folder / "data", folder / "base"
    server._run(str(server.bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    archiving = f"archive_command = 'REHAB_WAL_ARCHIVE_DIR={archive} bash {folder / 'wal-archive.sh'} %p %f'"
    start_on_deploy_settings(server, data, "primary", archiving)
    try:
        assert psql(server, "postgres", "SHOW wal_level") == "replica"
        psql(server, "postgres", "CREATE TABLE persons (id int); INSERT INTO persons VALUES (1)")
        server._run(
            str(server.bin / "pg_basebackup"),
            "-h",
            str(folder),
            "-p",
            str(server.port),
            "-U",
            "postgres",
            "-D",
            str(base),
            "--checkpoint=fast",
        )
        psql(server, "postgres", "INSERT INTO persons VALUES (2)")
        psql(server, "postgres", "SELECT pg_create_restore_point('before-3')")
        psql(server, "postgres", "INSERT INTO persons VALUES (3)")
        segment = psql(server, "postgres", "SELECT pg_walfile_name(pg_switch_wal())")
        assert wait_for(lambda: (archive / segment).exists()), psql(
            server, "postgres", "TABLE pg_stat_archiver"
        )
        assert not list(archive.glob("*.partial"))
    finally:
        server._run(str(server.bin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")

    # The runbook's point-in-time recovery: the base backup, recovery.signal, wal-restore.sh, a target.
    (base / "recovery.signal").touch()
    start_on_deploy_settings(
        server,
        base,
        "restored",
        "archive_mode = off",
        f"restore_command = 'REHAB_WAL_ARCHIVE_DIR={archive} bash {folder / 'wal-restore.sh'} %f %p'",
        "recovery_target_name = 'before-3'",
        "recovery_target_action = 'promote'",
    )
    try:
        assert wait_for(lambda: psql(server, "postgres", "SELECT pg_is_in_recovery()") == "f")
        assert psql(server, "postgres", "SELECT string_agg(id::text, ',' ORDER BY id) FROM persons") == "1,2"
    finally:
        server._run(str(server.bin / "pg_ctl"), "-D", str(base), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
