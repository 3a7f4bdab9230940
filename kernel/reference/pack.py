"""A jurisdiction pack 辖区包: one folder per place, read and checked once at start-up (ADR 0013).

    deploy/jurisdictions/<name>/
      jurisdiction.toml     areas, institutions, categories, card prefix, form titles, review deadline …
      policies/<id>.toml    one per policy period: catalogue, standards, fees, funding, task numbers
      inputs.toml           the deployment's own figures for what a seed defers to another document
      communities.toml      each area's communities 社区, or why its source lists none (issue 14)

Every error names the file and the dotted path of the figure at fault, so whoever edits a pack finds the
line. A deployment input nobody gave is not an error but a warning (``Pack.warnings``, logged at INFO):
the payments that need it wait, listed as unsettled with the document named.
"""

from __future__ import annotations

import copy
import logging
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kernel.reference.communities import Communities
from kernel.reference.jurisdiction import DEFAULT_REFERENCE, JURISDICTIONS_DIR, Jurisdiction, Quota
from kernel.reference.policy_view import PolicyView

JURISDICTION_FILE = "jurisdiction.toml"
INPUTS_FILE = "inputs.toml"
COMMUNITIES_FILE = "communities.toml"
POLICIES_FOLDER = "policies"
STATED_IN_PACK = ("review_deadline", "card_prefix", "forms")
"""Fields a pack's jurisdiction.toml must write out, even where the model has a default for tests."""
WRITTEN_IN_POLICIES = ("quotas", "item_standards_fen")
"""Public fields a pack derives from its policies: written there once, never in jurisdiction.toml."""

Model = TypeVar("Model", bound=BaseModel)
log = logging.getLogger(__name__)


class PackError(ValueError):
    """A pack that cannot be used: the file, the dotted path and what is wrong."""


class DeploymentFigure(BaseModel):
    """One figure the deployment gives: which file and dotted path it fills, and where it comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(min_length=1, description="jurisdiction.toml or policies/<id>.toml")
    path: str = Field(min_length=1, description="Dotted path of a { deployment_input = … } figure.")
    source: str = Field(min_length=1, description="The document that sets it (e.g. 安政办〔2019〕23号).")
    fen: int | None = Field(default=None, gt=0)
    working_days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_figure(self) -> DeploymentFigure:
        if (self.fen is None) == (self.working_days is None):
            raise ValueError("give exactly one of fen and working_days")
        return self


class DeploymentInputs(BaseModel):
    """inputs.toml: ``[[inputs]]`` tables, none when the deployment gives nothing yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    inputs: tuple[DeploymentFigure, ...] = ()


@dataclass(frozen=True)
class PolicyFile:
    """A policy file as written, the deployment's inputs filled in: settlement validates ``data`` as its
    pricing view; ``view`` is what every service reads of it."""

    path: Path
    data: Mapping[str, Any]
    view: PolicyView


@dataclass(frozen=True)
class Pack:
    """A validated pack: the public view, its policy files, and warnings (inputs not given yet)."""

    directory: Path
    jurisdiction: Jurisdiction
    policies: tuple[PolicyFile, ...]
    warnings: tuple[str, ...]


def is_pack(path: Path) -> bool:
    """A pack's folder, or its jurisdiction.toml."""
    return (path.is_dir() and (path / JURISDICTION_FILE).is_file()) or path.name == JURISDICTION_FILE


def pack_names(root: Path = JURISDICTIONS_DIR) -> list[str]:
    """Every pack of a deployment's tree, by folder name."""
    return sorted(path.name for path in root.iterdir() if is_pack(path))


def validated(model: type[Model], data: object, file: Path) -> Model:
    """``model`` from ``data``, or a PackError listing each fault as ``file: dotted.path: message``."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        faults = [
            f"{_shown(file)}: {'.'.join(str(part) for part in fault['loc']) or '(文件)'}: {fault['msg']}"
            for fault in error.errors()
        ]
        raise PackError("\n".join(faults)) from error


def load_pack(path: Path) -> Pack:
    """Read and check a pack: its folder, or its jurisdiction.toml (cached per folder)."""
    return _load_pack((path.parent if path.name == JURISDICTION_FILE else path).resolve())


@cache
def _load_pack(directory: Path) -> Pack:
    inputs = _inputs(directory)
    jurisdiction_data = _with_inputs(read_toml(directory / JURISDICTION_FILE), JURISDICTION_FILE, inputs)
    policies = tuple(
        _policy_file(directory, path, inputs) for path in sorted((directory / POLICIES_FOLDER).glob("*.toml"))
    )
    _check_every_input_used(directory, inputs, policies)
    jurisdiction = _public_view(directory, jurisdiction_data, policies)
    jurisdiction = jurisdiction.model_copy(update={"communities": _communities(directory, jurisdiction)})
    _check_policies(directory, jurisdiction, policies)
    warnings = tuple(_inputs_not_given(directory / JURISDICTION_FILE, jurisdiction_data)) + tuple(
        warning for policy in policies for warning in _inputs_not_given(policy.path, policy.data)
    )
    for warning in warnings:  # once per process (the pack is cached); not a fault, so not on every console
        log.info(warning)
    return Pack(directory, jurisdiction, policies, warnings)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file of a pack, or a PackError naming it."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise PackError(f"{_shown(path)}: 文件不存在") from error
    except tomllib.TOMLDecodeError as error:
        raise PackError(f"{_shown(path)}: 不是有效的 TOML：{error}") from error


def _shown(path: Path) -> str:
    """A pack's file as its editor knows it: relative to deploy/jurisdictions where it lies there."""
    try:
        return str(path.resolve().relative_to(JURISDICTIONS_DIR.parent.parent))
    except ValueError:
        return str(path)


def _inputs(directory: Path) -> DeploymentInputs:
    path = directory / INPUTS_FILE
    return validated(DeploymentInputs, read_toml(path), path) if path.is_file() else DeploymentInputs()


def _with_inputs(data: dict[str, Any], file: str, inputs: DeploymentInputs) -> dict[str, Any]:
    """The file's data with each figure the deployment gives filled into its ``deployment_input``."""
    filled = copy.deepcopy(data)
    for index, given in enumerate(inputs.inputs):
        if given.file != file:
            continue
        figure = _at(filled, given.path)
        if not isinstance(figure, dict) or "deployment_input" not in figure:
            raise PackError(
                f"{INPUTS_FILE}: inputs[{index}]: {file} 的 {given.path} "
                "不是部署参数（{ deployment_input = … }）"
            )
        figure.update({"fen": given.fen} if given.fen is not None else {"working_days": given.working_days})
    return filled


def _at(data: object, dotted: str) -> object:
    for key in dotted.split("."):
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def _communities(directory: Path, jurisdiction: Jurisdiction) -> Communities:
    """communities.toml, every area of it one of jurisdiction.toml's, every other area's absence explained."""
    path = directory / COMMUNITIES_FILE
    communities = validated(Communities, read_toml(path), path)
    for area in communities.unknown_areas(jurisdiction.streets):
        raise PackError(f"{_shown(path)}: areas.{area}: 不是 {_shown(directory / JURISDICTION_FILE)} 的区域")
    for area in communities.areas_left_without_reason(jurisdiction.streets):
        raise PackError(
            f"{_shown(path)}: areas.{area}: 未列出该区域的社区；请列出，或在 unlisted 中写明为何未列出"
        )
    return communities


def _policy_file(directory: Path, path: Path, inputs: DeploymentInputs) -> PolicyFile:
    data = _with_inputs(read_toml(path), f"{POLICIES_FOLDER}/{path.name}", inputs)
    view = validated(PolicyView, data, path)
    if view.id != path.stem:
        raise PackError(f"{_shown(path)}: id: 声明的是 {view.id!r}，文件名应与之相同（{view.id}.toml）")
    if view.jurisdiction != directory.name:
        raise PackError(
            f"{_shown(path)}: jurisdiction: {view.jurisdiction!r} 不是本辖区包 {directory.name!r}"
        )
    return PolicyFile(path, data, view)


def _check_every_input_used(
    directory: Path, inputs: DeploymentInputs, policies: tuple[PolicyFile, ...]
) -> None:
    files = {JURISDICTION_FILE, *(f"{POLICIES_FOLDER}/{policy.path.name}" for policy in policies)}
    for index, given in enumerate(inputs.inputs):
        if given.file not in files:
            raise PackError(
                f"{_shown(directory / INPUTS_FILE)}: inputs[{index}].file: 本辖区包没有 {given.file}"
            )


def _public_view(directory: Path, data: dict[str, Any], policies: tuple[PolicyFile, ...]) -> Jurisdiction:
    path = directory / JURISDICTION_FILE
    for field in STATED_IN_PACK:
        if field not in data:
            raise PackError(f'{_shown(path)}: {field}: 辖区包必须写明（期限未规定时写 {{ unstated = "…" }}）')
    for field in WRITTEN_IN_POLICIES:
        if field in data:
            raise PackError(f"{_shown(path)}: {field}: 写在 policies/ 的政策文件中，只写一次")
    jurisdiction = validated(Jurisdiction, {**data, **_from_policies(data, policies, path)}, path)
    if jurisdiction.jurisdiction != directory.name:
        raise PackError(
            f"{_shown(path)}: jurisdiction: {jurisdiction.jurisdiction!r} "
            f"应与文件夹名 {directory.name!r} 相同"
        )
    return jurisdiction


def _from_policies(data: Mapping[str, Any], policies: tuple[PolicyFile, ...], path: Path) -> dict[str, Any]:
    """Task numbers of every policy, and the catalogue's bounds of the latest to take effect."""
    areas = set(data.get("streets", ()))
    quotas = []
    for policy in policies:
        for index, numbers in enumerate(policy.view.quotas):
            for area, places in numbers.by_area.items():
                if area not in areas:
                    raise PackError(
                        f"{_shown(policy.path)}: quotas[{index}].by_area.{area}: 不是 {_shown(path)} 的区域"
                    )
                quotas.append(
                    Quota(
                        year=numbers.year,
                        area=area,
                        places=places,
                        items=numbers.items,
                        minimum=numbers.minimum,
                    )
                )
    latest = max((policy.view for policy in policies), key=lambda view: view.effective_from, default=None)
    bounds = {} if latest is None else {code: item.bound_fen() for code, item in latest.items.items()}
    return {
        "quotas": quotas,
        "item_standards_fen": {code: fen for code, fen in bounds.items() if fen is not None},
    }


def _check_policies(directory: Path, jurisdiction: Jurisdiction, policies: tuple[PolicyFile, ...]) -> None:
    """Areas of the funding splits are the pack's; institutions serve catalogue items; one policy a day."""
    for policy in policies:
        for dotted, area in policy.view.split_areas():
            if area not in jurisdiction.streets:
                raise PackError(f"{_shown(policy.path)}: {dotted}: {area} 不是{jurisdiction.name}的区域")
    catalogue = {code for policy in policies for code in policy.view.items}
    groups: dict[str, list[frozenset[str]]] = {
        "assessment_institutions": [i.designated_items for i in jurisdiction.assessment_institutions],
        "service_institutions": [i.designated_items for i in jurisdiction.service_institutions],
    }
    for group, designated in groups.items():
        for index, items in enumerate(designated):
            unknown = sorted(items - catalogue) if policies else []
            if unknown:
                raise PackError(
                    f"{_shown(directory / JURISDICTION_FILE)}: {group}[{index}].designated_items: "
                    f"{', '.join(unknown)} 不在本辖区政策的目录中"
                )
    _check_one_policy_a_day(policies)


def _check_one_policy_a_day(policies: tuple[PolicyFile, ...]) -> None:
    ordered = sorted(policies, key=lambda policy: policy.view.effective_from)
    for earlier, later in pairwise(ordered):
        until = earlier.view.effective_until
        if until is None or until >= later.view.effective_from:
            raise PackError(
                f"{_shown(later.path)}: effective_from: {later.view.effective_from} 仍在 "
                f"{earlier.view.id} 的施行期内；两项政策不能管辖同一天"
                f"（请给 {earlier.view.id} 写 effective_until）"
            )


def _inputs_not_given(path: Path, data: Mapping[str, Any]) -> Iterator[str]:
    for dotted, what in _deployment_inputs(data, ""):
        yield f"{_shown(path)}: {dotted}: 部署参数尚未填写（{what}），请在 {INPUTS_FILE} 中给出"


def _deployment_inputs(data: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(data, dict):
        if "deployment_input" in data:
            if data.get("fen") is None and data.get("working_days") is None:
                yield path, str(data["deployment_input"])
            return
        for key, value in data.items():
            yield from _deployment_inputs(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _deployment_inputs(value, f"{path}[{index}]")


def every_pack(root: Path = JURISDICTIONS_DIR) -> list[Pack]:
    """Every pack of the tree, each checked (settlement knows every jurisdiction's policies)."""
    return [load_pack(root / name) for name in pack_names(root)]


@cache
def load_jurisdiction(name_or_path: str = DEFAULT_REFERENCE) -> Jurisdiction:
    """The public view of a pack: ``deploy/jurisdictions/<name>/``, a path to a pack's folder or its
    ``jurisdiction.toml``; or a lone ``.toml`` file of the model, read as it is (tests add a quota to a
    copy of Liangjiang's)."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.is_dir():
        path = JURISDICTIONS_DIR / name_or_path
        if not is_pack(path):
            known = "、".join(pack_names())
            raise PackError(f"没有名为 {name_or_path} 的辖区包：{_shown(JURISDICTIONS_DIR)} 下有 {known}")
    if is_pack(path):
        return load_pack(path).jurisdiction
    return validated(Jurisdiction, read_toml(path), path)
