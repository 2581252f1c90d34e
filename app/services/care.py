"""Interactions, complaints and survey answers: what staff log about every contact."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.models import (
    Complaint,
    ComplaintCreate,
    Customer,
    Interaction,
    InteractionCreate,
    SurveyResponse,
    SurveyResponseCreate,
    User,
)
from app.services.access import Actor
from app.services.common import create_record


def create_interaction(
    *, session: Session, data: InteractionCreate | dict[str, Any], actor: Actor
) -> Interaction:
    """Validate and insert an interaction, audited."""
    return create_record(
        session=session,
        create_model=InteractionCreate,
        table=Interaction,
        data=data,
        entity="interaction",
        references={"customer_id": Customer, "user_id": User},
        actor=actor,
    )


def create_complaint(
    *, session: Session, data: ComplaintCreate | dict[str, Any], actor: Actor
) -> Complaint:
    """Validate and insert a complaint ticket, audited."""
    return create_record(
        session=session,
        create_model=ComplaintCreate,
        table=Complaint,
        data=data,
        entity="complaint",
        references={"customer_id": Customer, "owner_id": User},
        actor=actor,
    )


def create_survey_response(
    *,
    session: Session,
    data: SurveyResponseCreate | dict[str, Any],
    actor: Actor,
) -> SurveyResponse:
    """Validate and insert a survey answer (NPS 0-10, CSAT 1-5), audited."""
    return create_record(
        session=session,
        create_model=SurveyResponseCreate,
        table=SurveyResponse,
        data=data,
        entity="survey_response",
        references={"customer_id": Customer, "complaint_id": Complaint},
        actor=actor,
    )
