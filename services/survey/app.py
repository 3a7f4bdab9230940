"""Composition root of the survey service (street offices 街道)."""

from __future__ import annotations

from fastapi import FastAPI
from rehab_contracts import SURVEY, SURVEY_STREAM

from kernel.reference import Jurisdiction, deployment_reference, load_jurisdiction
from kernel.runtime import ServiceSettings, create_service_app
from services.survey.api import router
from services.survey.cards import CardRelease
from services.survey.cards_api import add_cards
from services.survey.import_api import router as import_router
from services.survey.keys import check_key_wrapping, person_keys_table
from services.survey.privacy import KeyRelease
from services.survey.privacy_api import add_key_release
from services.survey.privacy_api import router as privacy_router
from services.survey.projection import tables
from services.survey.relations import subscriptions
from services.survey.search_api import add_person_search
from services.survey.worklist_api import router as worklist_router


def create_app(
    settings: ServiceSettings | None = None,
    jurisdiction: Jurisdiction | None = None,
    key_release: KeyRelease | None = None,
    card_release: CardRelease | None = None,
) -> FastAPI:
    """The survey service's app; nothing connects until it starts.

    ``key_release`` (default: from ``settings.access_dir``, see privacy.py) says who may have data keys,
    ``card_release`` (default: from the same keys, see cards.py) who may read names and basic information.
    """
    assert person_keys_table.metadata is tables  # the registry's keys live in the service's own store
    settings = settings or ServiceSettings(service=SURVEY)
    check_key_wrapping(settings.database_url)
    app = create_service_app(
        settings,
        title="Survey service — street offices 街道",
        description=(
            "Registers disabled persons' basic information (精准康复服务手册 page 1) and records the yearly "
            "rehabilitation needs survey 康复需求调查, one by one or a street's whole sheet (xlsx/csv) "
            "at once; holds each person's data key and forgets persons on request. Publishes "
            "survey.person_registered, survey.person_details_corrected, survey.need_surveyed and "
            "survey.person_forgotten. Releases names (and 附件1 basic information) to the other agencies' "
            "pages within each caller's scope; consumes the assessment and approval events to learn which "
            "institutions serve whom and how far each person's year has gone."
        ),
        routers=[router, import_router, privacy_router, worklist_router],
        publishes_to=SURVEY_STREAM,
        subscriptions=subscriptions(),
        tables=tables,
    )
    app.state.jurisdiction = jurisdiction or load_jurisdiction(deployment_reference())
    app.state.key_release = key_release or KeyRelease.configured(settings.access_dir)
    app.state.card_release = card_release or CardRelease.configured(settings.access_dir)
    add_key_release(app)
    add_cards(app)
    add_person_search(app)
    return app
