"""The ``REHAB_*`` variables the `rehab` command reads, as one typed settings object.

A command option given on the command line wins over its variable; the variable over the default.
Read afresh by each command (:func:`operator_settings`), so a test or a shell sets a variable and
the next command sees it; a wrong value ends the command naming the variable (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from kernel.settings import RehabSettings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class OperatorSettings(RehabSettings):
    """Where the operator's deployment is: its folders, stores, Redis and survey registry."""

    var_dir: Path = Field(
        default=Path("var"),
        description="部署的 var 文件夹：各服务的 SQLite 数据库、日志、密钥（REHAB_VAR_DIR）",
    )
    access_dir: Path | None = Field(
        default=None, description="users.json 和令牌密钥所在文件夹；默认 <var_dir>/access（REHAB_ACCESS_DIR）"
    )
    keys_dir: Path | None = Field(
        default=None, description="各机构签名事件的密钥文件夹；默认 <var_dir>/keys（REHAB_KEYS_DIR）"
    )
    redis_url: str = Field(default=DEFAULT_REDIS_URL, description="共享的 Redis（REHAB_REDIS_URL）")
    database_url: str | None = Field(
        default=None, description="读命令所读服务数据库的 SQLAlchemy URL；默认 var_dir 中的 SQLite"
    )
    database_url_survey: str | None = Field(default=None, description="rehab verify 读的调查服务数据库")
    database_url_assessment: str | None = Field(default=None, description="rehab verify 读的评估服务数据库")
    database_url_approval: str | None = Field(default=None, description="rehab verify 读的审批服务数据库")
    database_url_delivery: str | None = Field(default=None, description="rehab verify 读的服务机构数据库")
    database_url_settlement: str | None = Field(default=None, description="rehab verify 读的结算服务数据库")
    console_database_url: str | None = Field(
        default=None, description="工作台数据库的 SQLAlchemy URL；默认 <var_dir>/console.db"
    )
    survey_url: str | None = Field(
        default=None, description="调查服务（人员登记）的地址，附件3 向它取个人数据密钥（REHAB_SURVEY_URL）"
    )
    demo: bool | None = Field(
        default=None,
        description="服务的演示模式（REHAB_DEMO）；未设置时 rehab up 给使用 Redis 默认用户的服务打开它",
    )
    data_key_token: str | None = Field(
        default=None,
        description="结算服务向调查服务取个人数据密钥的令牌（REHAB_DATA_KEY_TOKEN）；"
        "未设置时 rehab up 在开启访问控制时签发一个",
    )
    allow_volatile_redis: bool = Field(
        default=False,
        description="演示时允许可能丢失已确认事件的 Redis（无 AOF、会淘汰）（REHAB_ALLOW_VOLATILE_REDIS）",
    )

    @property
    def access_folder(self) -> Path:
        return self.access_dir or self.var_dir / "access"

    @property
    def keys_folder(self) -> Path:
        return self.keys_dir or self.var_dir / "keys"

    def store_url_of(self, service: str) -> str | None:
        """``REHAB_DATABASE_URL_<SERVICE>``: one service's store as `rehab verify` reads it."""
        configured = getattr(self, f"database_url_{service}", None)
        return configured if isinstance(configured, str) else None


def operator_settings() -> OperatorSettings:
    """The settings as the environment holds them now."""
    return OperatorSettings()
