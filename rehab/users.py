"""A deployment's users and its token key: who may be issued a token, for which agency, roles and scope;
and their staff-console passwords (kept in the console's own store, docs/adr/0012-staff-console.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.access.auth import PUBLIC_KEY_SUFFIX, Agency, Principal, Role, Scope, TokenIssuer
from kernel.domain.ids import new_event_id
from rehab.keys import write_key_file

__all__ = ["User", "UserDirectory", "UserUnknown", "console_store_url", "set_console_password"]

PRIVATE_KEY_FILE = "token-key.pem"


class UserUnknown(Exception):
    """No such user, or the user is disabled."""


@dataclass(frozen=True)
class User:
    """One person who may sign in: their agency, roles and scope; disabled users get no tokens."""

    name: str
    agency: Agency
    roles: frozenset[Role]
    scope: Scope
    enabled: bool = True

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "agency": str(self.agency),
            "roles": sorted(str(role) for role in self.roles),
            "scope": str(self.scope),
            "enabled": self.enabled,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> User:
        return cls(
            name=str(data["name"]),
            agency=Agency(str(data["agency"])),
            roles=frozenset(Role(role) for role in data["roles"]),  # type: ignore[attr-defined]
            scope=Scope.parse(str(data["scope"])),
            enabled=bool(data.get("enabled", True)),
        )


class UserDirectory:
    """users.json plus the token key pair in one directory (default var/access), private key 0600."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def users_file(self) -> Path:
        return self.folder / "users.json"

    def users(self) -> list[User]:
        if not self.users_file.exists():
            return []
        return [User.from_json(item) for item in json.loads(self.users_file.read_text(encoding="utf-8"))]

    def add(self, user: User) -> None:
        others = [existing for existing in self.users() if existing.name != user.name]
        self._save([*others, user])

    def disable(self, name: str) -> User:
        user = self._user(name)
        disabled = User(user.name, user.agency, user.roles, user.scope, enabled=False)
        self.add(disabled)
        return disabled

    def issue_token(self, name: str, *, lifetime: timedelta, now: datetime | None = None) -> str:
        user = self._user(name)
        if not user.enabled:
            raise UserUnknown(f"用户 {name} 已停用（disabled）")
        principal = Principal(user.name, user.agency, user.roles, user.scope)
        issuer = TokenIssuer(self.private_key())
        return issuer.issue(
            principal, now=now or datetime.now(UTC), lifetime=lifetime, token_id=str(new_event_id())
        )

    def private_key(self) -> Ed25519PrivateKey:
        """The current token key, created on first use."""
        path = self.folder / PRIVATE_KEY_FILE
        if not path.exists():
            self.rotate_key()
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def rotate_key(self) -> Path:
        """A new token key; old public keys stay, so issued tokens keep working until they expire."""
        self.folder.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_key_file(self.folder / f"token-key-{stamp}{PUBLIC_KEY_SUFFIX}", public, 0o644)
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = self.folder / PRIVATE_KEY_FILE
        write_key_file(path, private, 0o600, replace=True)  # the current key; the old public half stays
        return path

    def user(self, name: str) -> User:
        """The user of that name (enabled or not); UserUnknown when there is none."""
        return self._user(name)

    def _user(self, name: str) -> User:
        for user in self.users():
            if user.name == name:
                return user
        raise UserUnknown(f"没有用户 {name}（no user）：用 rehab users add 添加")

    def _save(self, users: list[User]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            [user.to_json() for user in sorted(users, key=lambda u: u.name)], ensure_ascii=False, indent=2
        )
        temporary = self.users_file.with_suffix(".tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(self.users_file)


def console_store_url(var_dir: Path) -> str:
    """Where the console keeps its store: $REHAB_CONSOLE_DATABASE_URL, else <var-dir>/console.db."""
    from rehab.settings import operator_settings

    if url := operator_settings().console_database_url:
        return url
    var_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{var_dir / 'console.db'}"


def set_console_password(
    directory: UserDirectory,
    store_url: str,
    name: str,
    password: str | None = None,
    *,
    must_change: bool = True,
) -> str:
    """Set a user's console password (a generated one-time password when None) and unlock them.

    The user must choose their own at first login unless ``must_change`` is False (the demo's logins).
    Returns the password set. Raises UserUnknown for a user not in the directory, ValueError for a
    password the console would refuse.
    """
    from console.passwords import Credentials, generate_password, password_problem
    from console.store import create_console_engine

    directory.user(name)
    password = password if password is not None else generate_password()
    if problem := password_problem(name, password):
        raise ValueError(problem)
    engine = create_console_engine(store_url)
    try:
        Credentials(engine).set_password(name, password, must_change=must_change, now=datetime.now(UTC))
    finally:
        engine.dispose()
    return password
