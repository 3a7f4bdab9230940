"""HTTP answers of the two-step sign-off: the block as it stands, with who has and has not confirmed."""

from __future__ import annotations

import json

from fastapi.responses import JSONResponse

from kernel.access.auth import Principal
from services.approval.domain import Application
from services.approval.sign_off.domain import Proposal
from services.approval.sign_off.handlers import Outcome, Signer
from services.approval.sign_off.schemas import SignatureView, SignOffView


def signer_of(caller: Principal) -> Signer:
    return Signer(caller.user, frozenset(str(role) for role in caller.roles))


def sign_off_view(proposal: Proposal, application: Application) -> SignOffView:
    assert application.application_id is not None
    declined = proposal.declined
    return SignOffView(
        proposal_id=proposal.proposal_id,
        application_id=application.application_id,
        block=proposal.block,  # type: ignore[arg-type]
        status=proposal.status,  # type: ignore[arg-type]
        proposed_by=proposal.proposed.signer,
        proposed_at=proposal.proposed.at,
        signatures=[
            SignatureView(
                role=role,  # type: ignore[arg-type]
                name=name,
                confirmed_at=proposal.confirmed[role][1] if role in proposal.confirmed else None,
            )
            for role, name in proposal.proposed.signatories.roles()
        ],
        awaiting=[name for _, name in proposal.awaiting],
        declined_by=declined.signer if declined else None,
        decline_reason=declined.reason if declined else None,
        application_status=str(application.status),
        proposed=json.loads(proposal.proposed.command),
    )


def sign_off_response(outcome: Outcome) -> JSONResponse:
    """201 when this step made the block take effect, 202 while it is pending, else (effective before,
    withdrawn) 200."""
    view = sign_off_view(outcome.proposal, outcome.application)
    if outcome.took_effect:
        code = 201
    elif outcome.proposal.status == "pending":
        code = 202
    else:
        code = 200
    headers = {"Location": f"/applications/{view.application_id}"}
    return JSONResponse(view.model_dump(mode="json"), status_code=code, headers=headers)
