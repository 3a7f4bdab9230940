"""Figures a pack may hold instead of a number: what the seed leaves unstated, and what it defers to a
document not among the seeds (a deployment input, given in the pack's ``inputs.toml``).

Both views of a pack (the public view every service reads, settlement's pricing view) share them, so a
figure written once in a policy file reads the same to approval and to settlement.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Unstated(_Frozen):
    """A figure the seed does not give: the reason, or what the seed defers to instead."""

    unstated: str = Field(min_length=1, description="Why there is no number, quoting the seed.")


class DeploymentInput(_Frozen):
    """A figure the seed defers to a document not among the seeds: the deployment gives it (``fen``).

    The pack's ``inputs.toml`` gives it, keyed by the figure's dotted path, so a seed-quoted file is never
    edited to hold a figure the seed does not state. Until it does, the figure is unstated: a payment that
    needs it waits, listed as unsettled with the document named (Anyang's 当地每月补助标准, set by
    安政办〔2019〕23号)."""

    deployment_input: str = Field(min_length=1, description="What the figure is and which document sets it.")
    fen: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="The figure the deployment gives, in fen 分; None until it does."
    )


class WorkingDays(_Frozen):
    """A period in working days 工作日 that the seed states (Anyang: 「5个工作日内完成…审核」)."""

    working_days: Annotated[int, Field(gt=0)]


class DeploymentDays(_Frozen):
    """A period in working days the seed leaves to the deployment (given in ``inputs.toml``)."""

    deployment_input: str = Field(min_length=1, description="Why the deployment sets it, quoting the seed.")
    working_days: Annotated[int, Field(gt=0)] | None = Field(
        default=None, description="The days the deployment gives; None until it does."
    )


def fen_of(figure: int | Unstated | DeploymentInput) -> int | None:
    """The amount of a figure: its number, what the deployment gave, or None when nobody states one."""
    if isinstance(figure, DeploymentInput):
        return figure.fen
    return None if isinstance(figure, Unstated) else figure


def days_of(figure: WorkingDays | DeploymentDays | Unstated) -> int | None:
    """The working days of a period: stated, given by the deployment, or None when nobody sets one."""
    return None if isinstance(figure, Unstated) else figure.working_days
