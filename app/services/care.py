"""Interactions, complaints and survey answers: what staff log about every contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from app.errors import InvalidInput
from app.models import (
    Complaint,
    ComplaintCreate,
    ComplaintStatus,
    ComplaintUpdate,
    Customer,
    Interaction,
    InteractionCreate,
    InteractionUpdate,
    SurveyResponse,
    SurveyResponseCreate,
    SurveyResponseUpdate,
    User,
    utcnow,
)
from app.retry import retrying
from app.services.access import Actor, Permission, require, require_customer
from app.services.common import (
    apply_update,
    create_record_once,
    get_or_not_found,
    require_existing,
    validate,
)


@retrying
def create_interaction(
    *,
    session: Session,
    data: InteractionCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Interaction:
    """Validate and insert an interaction, audited; a repeated key returns the first row."""
    return create_record_once(
        session=session,
        create_model=InteractionCreate,
        table=Interaction,
        data=data,
        entity="interaction",
        references={"customer_id": Customer, "user_id": User},
        actor=actor,
        idempotency_key=idempotency_key,
    )


@retrying
def update_interaction(
    *,
    session: Session,
    interaction_id: int,
    data: InteractionUpdate | dict[str, Any],
    actor: Actor,
) -> Interaction:
    """Change the given fields of an interaction, audited."""
    require(actor, Permission.write)
    changes = validate(InteractionUpdate, data).model_dump(exclude_unset=True)
    interaction = get_or_not_found(
        session=session, table=Interaction, key=interaction_id, label="Interaction"
    )
    require_customer(session=session, actor=actor, customer_id=interaction.customer_id, write=True)
    return apply_update(
        session=session, actor=actor, row=interaction, changes=changes, entity="interaction"
    )


@retrying
def create_complaint(
    *,
    session: Session,
    data: ComplaintCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> Complaint:
    """Validate and insert a complaint ticket, audited."""
    return create_record_once(
        session=session,
        create_model=ComplaintCreate,
        table=Complaint,
        data=data,
        entity="complaint",
        references={"customer_id": Customer, "owner_id": User},
        actor=actor,
        idempotency_key=idempotency_key,
    )


def _writable_complaint(*, session: Session, actor: Actor, complaint_id: int) -> Complaint:
    require(actor, Permission.write)
    complaint = get_or_not_found(
        session=session, table=Complaint, key=complaint_id, label="Complaint"
    )
    require_customer(session=session, actor=actor, customer_id=complaint.customer_id, write=True)
    return complaint


def _check_complaint_times(complaint: Complaint, changes: dict[str, Any]) -> None:
    opened = complaint.opened_at
    if opened.tzinfo is None:  # SQLite returns naive datetimes, stored as UTC
        opened = opened.replace(tzinfo=dt.UTC)
    errors = {}
    for name in ("first_response_at", "resolved_at"):
        value = changes.get(name)
        if value is not None and value < opened:
            errors[name] = "must not be before the complaint was opened"
    if errors:
        raise InvalidInput(errors)


@retrying
def update_complaint(
    *,
    session: Session,
    complaint_id: int,
    data: ComplaintUpdate | dict[str, Any],
    actor: Actor,
) -> Complaint:
    """Change the given fields of a complaint (times checked against opened at), audited."""
    changes = validate(ComplaintUpdate, data).model_dump(exclude_unset=True)
    complaint = _writable_complaint(session=session, actor=actor, complaint_id=complaint_id)
    require_existing(session=session, checks={"owner_id": (User, changes.get("owner_id"))})
    _check_complaint_times(complaint, changes)
    return apply_update(
        session=session, actor=actor, row=complaint, changes=changes, entity="complaint"
    )


@retrying
def record_first_response(
    *,
    session: Session,
    complaint_id: int,
    actor: Actor,
    responded_at: dt.datetime | None = None,
    note: str | None = None,
) -> Complaint:
    """Stamp the first response (default now) and move an open complaint to in progress."""
    complaint = _writable_complaint(session=session, actor=actor, complaint_id=complaint_id)
    if complaint.first_response_at is not None:
        raise InvalidInput({"first_response_at": "the first response is already recorded"})
    changes: dict[str, Any] = {"first_response_at": responded_at or utcnow()}
    if complaint.status in (ComplaintStatus.open, ComplaintStatus.reopened):
        changes["status"] = ComplaintStatus.in_progress
    if note:
        changes["description"] = "\n\n".join(
            part for part in (complaint.description, f"First response: {note}") if part
        )
    update = validate(ComplaintUpdate, changes).model_dump(exclude_unset=True)
    _check_complaint_times(complaint, update)
    return apply_update(
        session=session, actor=actor, row=complaint, changes=update, entity="complaint"
    )


@retrying
def resolve_complaint(
    *,
    session: Session,
    complaint_id: int,
    resolution: str,
    actor: Actor,
    resolved_at: dt.datetime | None = None,
    close: bool = False,
) -> Complaint:
    """Record the resolution (required) and its time; the first response defaults to it."""
    complaint = _writable_complaint(session=session, actor=actor, complaint_id=complaint_id)
    if not (resolution or "").strip():
        raise InvalidInput({"resolution": "must not be empty"})
    when = resolved_at or utcnow()
    changes: dict[str, Any] = {
        "resolution": resolution.strip(),
        "resolved_at": when,
        "status": ComplaintStatus.closed if close else ComplaintStatus.resolved,
    }
    if complaint.first_response_at is None:
        changes["first_response_at"] = when
    update = validate(ComplaintUpdate, changes).model_dump(exclude_unset=True)
    _check_complaint_times(complaint, update)
    return apply_update(
        session=session, actor=actor, row=complaint, changes=update, entity="complaint"
    )


@retrying
def create_survey_response(
    *,
    session: Session,
    data: SurveyResponseCreate | dict[str, Any],
    actor: Actor,
    idempotency_key: str | None = None,
) -> SurveyResponse:
    """Validate and insert a survey answer (NPS 0-10, CSAT 1-5), audited."""
    return create_record_once(
        session=session,
        create_model=SurveyResponseCreate,
        table=SurveyResponse,
        data=data,
        entity="survey_response",
        references={"customer_id": Customer, "complaint_id": Complaint},
        actor=actor,
        idempotency_key=idempotency_key,
    )


@retrying
def update_survey_response(
    *,
    session: Session,
    survey_response_id: int,
    data: SurveyResponseUpdate | dict[str, Any],
    actor: Actor,
) -> SurveyResponse:
    """Change the scores or comment of a survey answer (at least one score stays), audited."""
    require(actor, Permission.write)
    changes = validate(SurveyResponseUpdate, data).model_dump(exclude_unset=True)
    answer = get_or_not_found(
        session=session, table=SurveyResponse, key=survey_response_id, label="Survey answer"
    )
    require_customer(session=session, actor=actor, customer_id=answer.customer_id, write=True)
    nps = changes.get("nps", answer.nps)
    csat = changes.get("csat", answer.csat)
    if nps is None and csat is None:
        raise InvalidInput({"nps": "give an NPS score, a CSAT score or both"})
    return apply_update(
        session=session, actor=actor, row=answer, changes=changes, entity="survey_response"
    )
