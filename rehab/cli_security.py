"""`rehab keys generate | rotate | revoke | list`: the agencies' event-signing keys."""

from pathlib import Path
from typing import Annotated

import typer

from rehab.cli_failures import CommandFailed, ExitCode, say
from rehab.cli_options import SERVICE_CHOICE


def default_keys_dir() -> Path:
    """$REHAB_KEYS_DIR, else the keys folder of $REHAB_VAR_DIR (./var by default)."""
    from rehab.settings import operator_settings

    return operator_settings().keys_folder


KeysDir = Annotated[
    Path,
    typer.Option(
        "--dir",
        default_factory=default_keys_dir,
        show_default=False,
        help="密钥文件夹（默认 $REHAB_KEYS_DIR，否则 $REHAB_VAR_DIR/keys，否则 ./var/keys）",
    ),
]
Agency = Annotated[str, typer.Option("--agency", callback=SERVICE_CHOICE, help="哪个机构")]


def register(app: typer.Typer) -> None:
    keys = typer.Typer(
        help="各机构签名事件的 Ed25519 密钥（docs/security.md）：机构签名发布的事件，消费者用其公钥验证",
        no_args_is_help=True,
    )
    keys.command("generate", help="机构的第一对密钥")(generate)
    keys.command("rotate", help="机构的新密钥对；旧公钥继续验证旧事件")(rotate)
    keys.command("revoke", help="不再信任一把密钥（它签名的事件进入死信）")(revoke)
    keys.command("list", help="全部密钥，以及每个机构正在用哪把签名")(list_keys)
    app.add_typer(keys, name="keys")


def generate(agency: Agency, folder: KeysDir) -> int:
    from rehab.keys import KeysExist
    from rehab.keys import generate as generate_key

    try:
        key_id = generate_key(folder, agency)
    except KeysExist as exists:
        raise CommandFailed(f"{exists}：要换新密钥请用 rehab keys rotate", ExitCode.PROBLEM) from exists
    private = folder / agency / f"{key_id}.key"
    say(f"{agency} 此后用新密钥 {key_id} 签名（私钥 {private}，权限 0600）")
    return ExitCode.OK


def rotate(agency: Agency, folder: KeysDir) -> int:
    from rehab.keys import key_ids
    from rehab.keys import rotate as rotate_key

    if not key_ids(folder, agency):  # another folder, a typo: a first key is generated, not rotated
        raise CommandFailed(
            f"{folder.absolute() / agency} 中没有 {agency} 的密钥，无从轮换："
            f"用 --dir / REHAB_KEYS_DIR 指向部署的密钥文件夹，或先 rehab keys generate --agency {agency}",
            ExitCode.USAGE,
        )
    key_id = rotate_key(folder, agency)
    say(
        f"{agency} 此后用密钥 {key_id} 签名新事件；它之前的公钥继续验证各自签过的事件。"
        f"把 {folder / agency / key_id}.pub 复制到其他每台机器的密钥文件夹。"
    )
    return ExitCode.OK


def revoke(
    agency: Agency,
    folder: KeysDir,
    key_id: Annotated[str, typer.Option("--key-id", help="rehab keys list 显示的密钥编号")],
) -> int:
    from rehab.keys import UnknownKey
    from rehab.keys import revoke as revoke_key

    try:
        revoke_key(folder, agency, key_id)
    except UnknownKey as unknown:
        raise CommandFailed(f"{unknown}：见 rehab keys list", ExitCode.PROBLEM) from unknown
    say(f"{agency} 的密钥 {key_id} 已吊销（revoked）：它签名的事件将进入死信")
    return ExitCode.OK


def list_keys(folder: KeysDir) -> int:
    from rehab.cli_tables import add_row, show, table
    from rehab.keys import KEY_HEADINGS, key_rows
    from rehab.keys import list_keys as keys_in

    rows = key_rows(keys_in(folder))
    if not rows:
        say(f"{folder} 中没有密钥（no keys）：rehab keys generate --agency 机构 生成第一对")
        return ExitCode.OK
    listed = table(*KEY_HEADINGS)
    for row in rows:
        add_row(listed, row)
    show(listed)
    return ExitCode.OK
