"""The image's entrypoint: turn secret files into the settings the processes read, then exec the command.

Passwords never sit in compose.yaml, a unit file or the environment an operator types: they are files
(compose secrets under /run/secrets, systemd credentials under $CREDENTIALS_DIRECTORY), read here:

- ``REHAB_REDIS_PASSWORD_FILE`` (default ``$CREDENTIALS_DIRECTORY/redis-password``) with ``REHAB_REDIS_USER``
  and ``REHAB_REDIS_ADDRESS`` (host:port) give ``REHAB_REDIS_URL``; with ``REHAB_REDIS_SENTINELS``
  (host:port,...) and ``REHAB_REDIS_SENTINEL_PASSWORD_FILE`` the current primary is asked of Sentinel
  (group ``REHAB_REDIS_SENTINEL_GROUP``, default ``rehab``) at each start, and the Sentinels' password is
  also given as ``REHAB_REDIS_SENTINEL_PASSWORD`` for a service that follows the group itself;
- ``REHAB_RETENTION_REDIS_PASSWORD_FILE`` (default ``$CREDENTIALS_DIRECTORY/redis-retention-password``) gives
  ``REHAB_RETENTION_REDIS_URL`` for the same Redis as the ``retention`` user, the only one that may trim the
  event streams (a producing service's retention loop; without it streams grow without limit);
- ``REHAB_DATABASE_PASSWORD_FILE`` (default ``$CREDENTIALS_DIRECTORY/database-password``) becomes libpq's
  ``PGPASSWORD``, so ``REHAB_DATABASE_URL`` / ``REHAB_CONSOLE_DATABASE_URL`` carry no password;
- ``REHAB_TOKEN_KEY_FILE`` (the console only) is copied, mode 0600, to ``<access dir>/token-key.pem``;
- ``REHAB_DATA_KEY_TOKEN_FILE`` (settlement only: its token for survey's data keys) becomes
  ``REHAB_DATA_KEY_TOKEN``.

A variable already set (``REHAB_REDIS_URL``, ``PGPASSWORD``) is left as it is.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
from collections.abc import Callable, MutableMapping
from pathlib import Path
from urllib.parse import quote

Environment = MutableMapping[str, str]


class EntrypointError(Exception):
    """A secret the settings name is missing or unreadable: the process is not started."""


def secret(environment: Environment, variable: str, credential: str) -> str | None:
    """The content of the file ``variable`` names (else the systemd credential), without its newline."""
    named = environment.get(variable)
    credentials = environment.get("CREDENTIALS_DIRECTORY")
    if named:
        path = Path(named)
    elif credentials and (Path(credentials) / credential).exists():
        path = Path(credentials) / credential
    else:
        return None
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as unreadable:
        raise EntrypointError(f"{variable}: cannot read {path}: {unreadable.strerror}") from unreadable


def primary_from_sentinels(environment: Environment) -> str:
    """host:port of the Sentinel group's current primary (redis-py's own Sentinel client)."""
    from redis.exceptions import RedisError
    from redis.sentinel import Sentinel

    sentinels = []
    for address in environment["REHAB_REDIS_SENTINELS"].split(","):
        host, _, port = address.strip().rpartition(":")
        sentinels.append((host, int(port)))
    password = secret(environment, "REHAB_REDIS_SENTINEL_PASSWORD_FILE", "redis-sentinel-password")
    sentinel = Sentinel(sentinels, socket_timeout=2.0, sentinel_kwargs={"password": password})
    group = environment.get("REHAB_REDIS_SENTINEL_GROUP", "rehab")
    try:
        host, port = sentinel.discover_master(group)
    except RedisError as unanswered:
        raise EntrypointError(f"no primary of Sentinel group {group!r}: {unanswered}") from unanswered
    return f"{host}:{port}"


def redis_address(environment: Environment) -> str:
    """host:port of Redis: the Sentinel group's current primary, else ``REHAB_REDIS_ADDRESS``."""
    if environment.get("REHAB_REDIS_SENTINELS"):
        return primary_from_sentinels(environment)
    return environment.get("REHAB_REDIS_ADDRESS", "127.0.0.1:6379")


def redis_url(environment: Environment, address: Callable[[], str] | None = None) -> str | None:
    """``redis://user:password@host:port/0`` from the user, the password file and the address."""
    password = secret(environment, "REHAB_REDIS_PASSWORD_FILE", "redis-password")
    user = environment.get("REHAB_REDIS_USER")
    if password is None or not user:
        return None
    return _url(user, password, address() if address is not None else redis_address(environment))


def retention_redis_url(environment: Environment, address: Callable[[], str] | None = None) -> str | None:
    """``REHAB_RETENTION_REDIS_URL``: the ``retention`` user (``REHAB_RETENTION_REDIS_USER``) with the
    password of ``REHAB_RETENTION_REDIS_PASSWORD_FILE`` (else the credential ``redis-retention-password``),
    the only user that may trim the event streams (deploy/redis/users.acl); None without the file."""
    password = secret(environment, "REHAB_RETENTION_REDIS_PASSWORD_FILE", "redis-retention-password")
    if password is None:
        return None
    user = environment.get("REHAB_RETENTION_REDIS_USER", "retention")
    return _url(user, password, address() if address is not None else redis_address(environment))


def _url(user: str, password: str, address: str) -> str:
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@{address}/0"


def install_token_key(environment: Environment) -> None:
    """Copy the console's token-signing key into its access directory, readable by this user only."""
    source = environment.get("REHAB_TOKEN_KEY_FILE")
    if not source:
        return
    folder = Path(
        environment.get("REHAB_ACCESS_DIR") or Path(environment.get("REHAB_VAR_DIR", "var")) / "access"
    )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "token-key.pem"
    old_mask = os.umask(0o077)
    try:
        shutil.copyfile(source, target)
        target.chmod(0o600)
    except OSError as failed:
        raise EntrypointError(f"REHAB_TOKEN_KEY_FILE: cannot copy {source} to {target}: {failed}") from failed
    finally:
        os.umask(old_mask)


def prepare(environment: Environment) -> None:
    """Set the variables the secrets give, in place."""
    if environment.get("REHAB_REDIS_SENTINELS") and "REHAB_REDIS_SENTINEL_PASSWORD" not in environment:
        password = secret(environment, "REHAB_REDIS_SENTINEL_PASSWORD_FILE", "redis-sentinel-password")
        if password is not None:
            environment["REHAB_REDIS_SENTINEL_PASSWORD"] = password
    address = functools.cache(lambda: redis_address(environment))  # the Sentinels asked once for both URLs
    for variable, url_of in (
        ("REHAB_REDIS_URL", redis_url),
        ("REHAB_RETENTION_REDIS_URL", retention_redis_url),
    ):
        if variable not in environment and (url := url_of(environment, address)) is not None:
            environment[variable] = url
    if "PGPASSWORD" not in environment:
        password = secret(environment, "REHAB_DATABASE_PASSWORD_FILE", "database-password")
        if password is not None:
            environment["PGPASSWORD"] = password
    if "REHAB_DATA_KEY_TOKEN" not in environment:
        token = secret(environment, "REHAB_DATA_KEY_TOKEN_FILE", "data-key-token")
        if token is not None:
            environment["REHAB_DATA_KEY_TOKEN"] = token
    install_token_key(environment)


def main(argv: list[str]) -> int:
    if not argv:
        print("entrypoint: no command given (e.g. rehab serve survey, python -m console)", file=sys.stderr)
        return 2
    try:
        prepare(os.environ)
    except EntrypointError as problem:
        print(f"entrypoint: {problem}", file=sys.stderr)
        return 78  # EX_CONFIG: systemd and compose show it; a restart will not help until it is fixed
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
