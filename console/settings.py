"""How the console process runs. Every field can be set by a ``REHAB_`` environment variable; a wrong
value is refused naming the variable (``kernel.settings``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kernel.deployment import load_deployment
from kernel.settings import RehabSettings

CONSOLE_PORT = 8100


class ConsoleSettings(RehabSettings):
    """The console's store, the user directory it signs tokens from, and the agencies it calls."""

    model_config = SettingsConfigDict(env_prefix="REHAB_", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where the console's SQLite store lives.")
    access_dir: Path | None = Field(
        default=None,
        description="The user directory (users.json and the token-signing key, `rehab users`); "
        "default <var_dir>/access.",
    )
    console_database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the console's store; default SQLite <var_dir>/console.db.",
    )
    console_host: str = Field(default="127.0.0.1", description="The address the console listens on.")
    console_port: int = Field(default=CONSOLE_PORT, ge=1, le=65535, description="The console's HTTP port.")
    survey_url: str | None = Field(default=None, description="The street offices' survey service.")
    assessment_url: str | None = Field(default=None, description="The assessment institutions' service.")
    approval_url: str | None = Field(default=None, description="The approval service (附件2).")
    delivery_url: str | None = Field(default=None, description="The service institutions' delivery service.")
    settlement_url: str | None = Field(default=None, description="Settlement (区残联办 and finance).")
    console_idle_minutes: float = Field(default=30.0, gt=0, description="A session idle this long ends.")
    console_session_hours: float = Field(
        default=12.0, gt=0, description="A session ends this long after login."
    )
    console_secure_cookies: bool | None = Field(
        default=None,
        description="Mark cookies Secure. Unset: when the request came over https (behind a TLS proxy, "
        "run uvicorn with --proxy-headers or set this).",
    )
    console_login_backoff_seconds: float = Field(
        default=1.0, ge=0, description="Wait after the 3rd wrong password; doubles with each further one."
    )
    console_lockout_failures: int = Field(
        default=5, ge=1, description="Wrong passwords that lock an account."
    )
    console_lockout_minutes: float = Field(default=15.0, gt=0, description="How long a lock-out lasts.")
    console_token_minutes: float = Field(
        default=5.0, gt=0, description="Lifetime of the token minted for each call to an agency's API."
    )
    console_year: int | None = Field(default=None, description="The work year shown; default this year.")

    @property
    def store_url(self) -> str:
        if self.console_database_url:
            return self.console_database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / 'console.db'}"

    @property
    def user_directory(self) -> Path:
        return self.access_dir or self.var_dir / "access"

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.console_idle_minutes)

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.console_session_hours)

    def service_urls(self) -> dict[str, str]:
        """Each agency's API: the configured URL, else its default port on this machine."""
        configured = {
            "survey": self.survey_url,
            "assessment": self.assessment_url,
            "approval": self.approval_url,
            "delivery": self.delivery_url,
            "settlement": self.settlement_url,
        }
        ports = load_deployment().ports
        return {
            name: (configured.get(name) or f"http://127.0.0.1:{port}").rstrip("/")
            for name, port in ports.items()
        }
