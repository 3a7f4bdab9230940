"""Payloads of service delivery 提供康复服务, produced by the service institutions (agency ``delivery``)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from rehab_contracts.envelope import EventPayload
from rehab_contracts.events.common import InstitutionId, PersonId, Text, Year
from rehab_contracts.money import AMOUNT_BOUND, MAX_AMOUNT_FEN
from rehab_contracts.streams import DELIVERY, DELIVERY_STREAM
from rehab_contracts.vocabulary import CatalogueItem, SignerRole


class ServiceDelivered(EventPayload):
    """A designated service institution 定点康复服务机构 delivered a catalogue item, and the person or
    guardian signed the 康复服务记录.

    Produced by ``delivery``. The basis of settlement: it counts when it matches an approved application
    (same person, item, year and institution).
    """

    event_type: ClassVar[str] = "delivery.service_delivered"
    schema_version: ClassVar[int] = 1
    stream: ClassVar[str] = DELIVERY_STREAM
    producer: ClassVar[str] = DELIVERY

    delivery_id: UUID = Field(
        description="Id of this service record, minted by the delivery service.",
        examples=["9a7c5e3b-1d2f-4a6b-8c0d-2e4f6a8b0c2d"],
    )
    application_id: UUID = Field(
        description="The approved application the service is delivered under.",
        examples=["c4e6a8b0-2d4f-4b6d-9e1a-3c5e7a9b1d3f"],
    )
    person_id: PersonId
    service_year: Year = Field(description="Year the service counts for.", examples=[2024])
    institution_id: InstitutionId = Field(
        description="Service institution 服务机构 that delivered.",
        examples=["cq-medical-university-second-hospital"],
    )
    item: CatalogueItem = Field(
        description="Catalogue item delivered 服务项目.", examples=["low_vision_training"]
    )
    frequency: Text = Field(
        description="Frequency 服务频次: how often and how long each session, as written on the record.",
        examples=["每周2次，每次45分钟"],
    )
    period_start: date = Field(
        description="First day of the service period 服务周期.", examples=["2024-11-01"]
    )
    period_end: date = Field(description="Last day of the service period 服务周期.", examples=["2024-12-20"])
    staff: Text = Field(description="Service staff 服务人员 who delivered it.", examples=["刘康复师"])
    signed_by: SignerRole = Field(
        description="Who signed the record to confirm the service: the person or the guardian.",
        examples=["person"],
    )
    signed_on: date = Field(description="Date of that signature.", examples=["2024-12-20"])
    charge_fen: int = Field(
        ge=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description="Total charge of the service, in fen 分. " + AMOUNT_BOUND,
        examples=[150000],
    )
    insurance_paid_fen: int = Field(
        default=0,
        ge=0,
        le=MAX_AMOUNT_FEN,
        strict=True,
        description=(
            "Part paid first by basic medical insurance, critical-illness insurance, medical aid and other "
            "programmes, in fen 分; at most charge_fen. " + AMOUNT_BOUND
        ),
        examples=[30000],
    )

    @model_validator(mode="after")
    def _period_and_money_add_up(self) -> ServiceDelivered:
        if self.period_end < self.period_start:
            raise ValueError("period_end must not be before period_start")
        if self.signed_on < self.period_start:
            raise ValueError(
                "signed_on must not be before period_start: the signature confirms a service received"
            )
        if self.insurance_paid_fen > self.charge_fen:
            raise ValueError("insurance_paid_fen must not exceed charge_fen")
        return self
